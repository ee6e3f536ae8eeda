// Targeted (sparse) probing, following SAEBench's sparse_probing: balanced one-vs-rest tasks on genre (windows,
// mean-pooled) and part of speech (tokens); for each k, an L2 logistic regression on the top-k SAE latents by class-mean
// difference, and the same on the subject model's activations at the hook, plus both at full width. SAE latents are
// read as f_i ||W_dec,i|| (EvalInputs.ScaledFeatures), so the ranking compares what latents write, not how their
// activation and decoder row happen to split a scale. The summary uses SAEBench's key names (llm_top_k_test_accuracy,
// sae_top_k_test_accuracy).
using System.Diagnostics;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Evals.Probing;

public sealed class SparseProbingEvalStage : EvalStage
{
    public override string Name => "sparse_probing";
    public override int Version => 2;

    public override void CheckInputs(ExperimentConfig config, RunEnvironment environment)
    {
        SparseProbingEvalConfig probing = config.Evals.SparseProbing;
        ProbingPlan.CheckPosTags(probing.PosTags);
        if (!(probing.L2 > 0))
            throw new InvalidInputException("evals.sparse_probing.l2 must be positive: without a penalty, separable tasks have no finite probe.");
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        SparseProbingEvalConfig probing = config.Evals.SparseProbing;
        CheckInputs(config, context.Environment);
        using var inputs = EvalInputs.Open(context);
        ProbingPlan plan = ProbingPlan.Build(inputs.Data, config.Data.ContextSize, probing, context.Seed);
        context.Log.WriteLine($"sparse_probing: {plan.Tasks.Count} tasks ({plan.Skipped.Count} skipped), " +
                              $"{plan.Windows.Count} windows, {plan.Tokens.Count} token examples");
        if (plan.Tasks.Count == 0)
            throw new RunFailedException("sparse_probing: no task has enough examples: " + string.Join("; ", plan.Skipped.Select(s => $"{s.Name}: {s.Reason}")));

        var clock = Stopwatch.StartNew();
        ProbeFeatures features = ProbeFeatures.Extract(inputs, plan, probing.BatchSize);
        context.Measurements["sparse_probing_features_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);

        clock.Restart();
        var results = plan.Tasks.Select(task => Score(task, features, probing)).ToArray();
        context.Measurements["sparse_probing_probes_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        return ToJson(results, plan.Skipped, probing.KValues);
    }

    /// <summary>One task's accuracies on the model's activations and on the SAE's latents.</summary>
    public sealed record TaskResult(ProbingTask Task, ProbeAccuracies Model, ProbeAccuracies Sae);

    static TaskResult Score(ProbingTask task, ProbeFeatures features, SparseProbingEvalConfig probing)
    {
        ProbeAccuracies Probe(FeatureMatrix all) => SparseProbe.Evaluate(
            new ProbeExamples(all.SelectRows(task.TrainRows), task.TrainLabels),
            new ProbeExamples(all.SelectRows(task.TestRows), task.TestLabels), probing.KValues, probing.L2);
        return task.TokenLevel
            ? new TaskResult(task, Probe(features.TokenModel), Probe(features.TokenSae))
            : new TaskResult(task, Probe(features.WindowModel), Probe(features.WindowSae));
    }

    /// <summary>The summary: means over all tasks, over genre and over POS tasks, then every task and every skip.</summary>
    public static JsonObject ToJson(IReadOnlyList<TaskResult> results, IReadOnlyList<SkippedTask> skipped, IReadOnlyList<int> kValues)
    {
        JsonObject Mean(IReadOnlyList<TaskResult> group, string prefix, Func<TaskResult, ProbeAccuracies> pick)
        {
            var block = new JsonObject { [$"{prefix}_test_accuracy"] = group.Average(r => pick(r).FullWidth) };
            for (int i = 0; i < kValues.Count; i++)
                block[$"{prefix}_top_{kValues[i]}_test_accuracy"] = group.Average(r => pick(r).TopK[i].Accuracy);
            return block;
        }
        JsonObject? Group(string name)
        {
            TaskResult[] group = results.Where(r => r.Task.Group == name).ToArray();
            return group.Length == 0 ? null : new JsonObject { ["llm"] = Mean(group, "llm", r => r.Model), ["sae"] = Mean(group, "sae", r => r.Sae) };
        }
        JsonObject Task(TaskResult r)
        {
            var entry = new JsonObject
            {
                ["task"] = r.Task.Name,
                ["train_examples"] = r.Task.TrainRows.Length,
                ["test_examples"] = r.Task.TestRows.Length,
            };
            foreach ((string prefix, ProbeAccuracies accuracies) in new[] { ("llm", r.Model), ("sae", r.Sae) })
            {
                entry[$"{prefix}_test_accuracy"] = accuracies.FullWidth;
                foreach ((int k, double accuracy) in accuracies.TopK) entry[$"{prefix}_top_{k}_test_accuracy"] = accuracy;
            }
            return entry;
        }
        return new JsonObject
        {
            ["llm"] = Mean(results, "llm", r => r.Model),
            ["sae"] = Mean(results, "sae", r => r.Sae),
            ["genre"] = Group("genre"),
            ["pos"] = Group("pos"),
            ["tasks"] = new JsonArray(results.Select(r => (JsonNode)Task(r)).ToArray()),
            ["skipped"] = new JsonArray(skipped.Select(s => (JsonNode)new JsonObject { ["task"] = s.Name, ["reason"] = s.Reason }).ToArray()),
        };
    }
}
