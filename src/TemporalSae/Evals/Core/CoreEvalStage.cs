// The core evaluation stage: on held-out (test split) windows, three forward passes per batch, clean, with the SAE
// spliced in at the hook, and with the hook zero-ablated, pooled into SAEBench's core metrics. The SAE sees whole
// sequences with their boundary ids, so temporal SAEs are spliced causally. With special tokens excluded, the
// splice keeps the original activation at special positions; zero ablation zeroes every position.
using System.Text.Json.Nodes;
using TemporalSae.Activations;
using TemporalSae.Data;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Training;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Core;

public sealed class CoreEvalStage : Stage
{
    public override string Name => "core";
    public override string ResultSection => "evals";
    public override IReadOnlyList<string> DependsOn => ["data", "subject_model", "sae"];
    public override int Version => 1;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject key = Sections(config, "activations");
        key["core"] = Sections(config, "evals")["evals"]!["core"]!.DeepClone();
        key["context_size"] = config.Data.ContextSize;
        return key;
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        CoreEvalConfig core = config.Evals.Core;
        PreparedData data = DataStage.Load(context.Input("data"));
        using LoadedSubjectModel subject = SubjectModelStage.Open(context.Input("subject_model"), config.SubjectModel);
        using SparseAutoencoder sae = SaeStage.Open(context.Input("sae"));
        int layer = ActivationsStage.HookLayer(config.Activations.Hook, subject.Model);
        var windows = EvalWindows.FromSplit(data, Split.Test, config.Data.ContextSize, core.Tokens);

        var accumulator = new CoreEvalAccumulator();
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(core.BatchSize))
            {
                using var scope = NewDisposeScope();
                Tensor ids = subject.ToModelIds(batch.Gpt2Ids);
                ModelOutput clean = subject.Model.Forward(ids, new ResidHook(layer));
                Tensor x = clean.ResidPost!;                                                   // [B, T, d]
                Tensor f = sae.Encode(batch.Activations(x));                                  // [B, T, d_sae]
                Tensor xHat = sae.Decode(f);                                                   // [B, T, d]
                Tensor splice = core.ExcludeSpecialTokens ? where(batch.Special.unsqueeze(-1), x, xHat) : xHat;
                Tensor saeLogits = subject.Model.Forward(ids, new ResidHook(layer, Replace: _ => splice)).Logits!;
                Tensor ablatedLogits = subject.Model.Forward(ids, new ResidHook(layer, Replace: r => zeros_like(r))).Logits!;
                Tensor keep = core.ExcludeSpecialTokens ? batch.Special.logical_not() : ones_like(batch.Special);
                accumulator.AddReconstruction(x, xHat, f, keep);
                accumulator.AddLogits(ids, core.ExcludeSpecialTokens ? batch.Special : zeros_like(batch.Special), clean.Logits!, saeLogits, ablatedLogits);
            }
        }
        return accumulator.Result().ToJson();
    }
}
