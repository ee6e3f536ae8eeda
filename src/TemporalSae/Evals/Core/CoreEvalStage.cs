// The core evaluation stage: on held-out (test split) windows, three forward passes per batch, clean, with the SAE
// spliced in at the hook (SplicedForward), and with the hook zero-ablated, pooled into SAEBench's core metrics. Zero
// ablation zeroes every position, special ones included.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Core;

public sealed class CoreEvalStage : EvalStage
{
    public override string Name => "core";
    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        CoreEvalConfig core = config.Evals.Core;
        using var inputs = EvalInputs.Open(context);
        var windows = inputs.TestWindows(core.Tokens);

        var accumulator = new CoreEvalAccumulator();
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(core.BatchSize))
            {
                using var scope = NewDisposeScope();
                Tensor ids = inputs.Subject.ToModelIds(batch.Gpt2Ids);
                var spliced = inputs.Splice(batch, ids, core.ExcludeSpecialTokens);
                Tensor ablatedLogits = inputs.Subject.Model.Forward(ids, new ResidHook(inputs.Layer, Replace: r => zeros_like(r))).Logits!;
                Tensor keep = core.ExcludeSpecialTokens ? batch.Special.logical_not() : ones_like(batch.Special);
                accumulator.AddReconstruction(spliced.Activations, spliced.Reconstruction, spliced.Features, keep);
                accumulator.AddLogits(ids, core.ExcludeSpecialTokens ? batch.Special : zeros_like(batch.Special),
                    spliced.Clean.Logits!, spliced.SplicedLogits, ablatedLogits);
            }
        }
        return accumulator.Result().ToJson();
    }
}
