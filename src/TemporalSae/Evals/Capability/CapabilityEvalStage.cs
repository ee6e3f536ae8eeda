// Capability impact: next-token top-1 accuracy of the subject model on held-out (test split) windows, clean and with
// the SAE spliced in at the hook, beside core's cross-entropy and KL for the same SAE (read from the core stage, so the
// formulas live in one place).
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Capability;

public sealed class CapabilityEvalStage : EvalStage
{
    public override string Name => "capability";
    public override IReadOnlyList<string> DependsOn => [.. base.DependsOn, "core"];
    public override int Version => 3;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject key = (JsonObject)base.KeyMaterial(config);
        key["exclude_special_tokens"] = config.Evals.Core.ExcludeSpecialTokens;
        return key;
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        CapabilityEvalConfig capability = config.Evals.Capability;
        bool excludeSpecial = config.Evals.Core.ExcludeSpecialTokens;
        using var inputs = EvalInputs.Open(context);
        var windows = inputs.TestWindows(capability.Tokens);

        var accuracy = new NextTokenAccuracy(inputs.Subject.Vocab?.UnknownId);
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(capability.BatchSize))
            {
                using var scope = NewDisposeScope();
                Tensor ids = inputs.Subject.ToModelIds(batch.TokenIds);
                var spliced = inputs.Splice(batch, ids, excludeSpecial);
                accuracy.Add(ids, excludeSpecial ? batch.Special : zeros_like(batch.Special), spliced.Clean.Logits!, spliced.SplicedLogits);
            }
        }

        JsonObject core = JsonNode.Parse(File.ReadAllText(Path.Combine(context.Input("core"), ExperimentRunner.SummaryFile)))!.AsObject();
        return new JsonObject
        {
            ["next_token_accuracy"] = new JsonObject
            {
                ["top1_accuracy_clean"] = accuracy.Clean,
                ["top1_accuracy_sae"] = accuracy.Spliced,
                ["top1_accuracy_delta"] = accuracy.Spliced - accuracy.Clean,
            },
            ["core"] = new JsonObject
            {
                ["ce_loss_without_sae"] = core["model_performance_preservation"]!["ce_loss_without_sae"]!.DeepClone(),
                ["ce_loss_with_sae"] = core["model_performance_preservation"]!["ce_loss_with_sae"]!.DeepClone(),
                ["kl_div_with_sae"] = core["model_behavior_preservation"]!["kl_div_with_sae"]!.DeepClone(),
            },
            ["token_stats"] = new JsonObject
            {
                ["predictions"] = accuracy.Predictions,
                ["excluded_unknown_targets"] = accuracy.ExcludedUnknownTargets,
            },
            ["note"] = "predictions whose target is the unknown id of the subject model are left out, as in the CE of core",
        };
    }
}
