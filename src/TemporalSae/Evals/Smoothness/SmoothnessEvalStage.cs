// The smoothness evaluation stage: SAE features of held-out (test split) windows, encoded as whole sequences (temporal
// SAEs causally), measured per latent level by TemporalSmoothness within the configured segments. With more than one
// level, "all" (every latent) is reported first. Features are f_i ||W_dec,i|| (EvalInputs.ScaledFeatures), so total
// variation weighs latents by what they write.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Smoothness;

public sealed class SmoothnessEvalStage : EvalStage
{
    public override string Name => "smoothness";
    public override int Version => 3;
    public override JsonObject Build(StageContext context, string folder)
    {
        SmoothnessEvalConfig smoothness = context.Config.Evals.Smoothness;
        using var inputs = EvalInputs.Open(context);
        IReadOnlyList<LatentLevel> levels = inputs.Sae.LatentLevels;
        if (levels.Count > 1) levels = [new LatentLevel("all", 0, inputs.Sae.DSae), .. levels];
        var measure = new TemporalSmoothness(levels);
        using (no_grad())
        {
            foreach (EvalBatch batch in inputs.TestWindows(smoothness.Tokens).Batches(smoothness.BatchSize))
            {
                using var scope = NewDisposeScope();
                Tensor x = inputs.HookActivations(batch.TokenIds);
                Tensor f = inputs.ScaledFeatures(batch.Activations(x));                         // [B, T, d_sae]
                measure.Add(f, smoothness.Segment == "document" ? batch.DocumentIds : batch.SentenceIds, batch.Special);
            }
        }

        var byLevel = new JsonObject();
        foreach (LevelSmoothness level in measure.Result())
            byLevel[level.Level] = new JsonObject
            {
                ["latents"] = level.Latents,
                ["total_variation"] = level.TotalVariation,
                ["relative_total_variation"] = level.RelativeTotalVariation,
                ["persistence"] = level.Persistence,
                ["distinct_latents_per_sequence"] = level.DistinctPerSequence,
                ["l0"] = level.L0,
            };
        return new JsonObject { ["segment"] = smoothness.Segment, ["levels"] = byLevel };
    }
}
