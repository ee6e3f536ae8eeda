using System.Text.Json.Nodes;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

/// <summary>The whole graph at tiny sizes, evaluations included, through the real command (run once for the class).</summary>
public sealed class EvaluationsPipelineTests(TinyEvaluationsRun run) : IClassFixture<TinyEvaluationsRun>
{
    [Fact]
    public void Capability_reports_accuracies_beside_cores_cross_entropy_and_kl()
    {
        var evals = run.Evals;
        var accuracy = evals["capability"]!["next_token_accuracy"]!;
        double clean = accuracy["top1_accuracy_clean"]!.GetValue<double>(), spliced = accuracy["top1_accuracy_sae"]!.GetValue<double>();
        Assert.InRange(clean, 0, 1);
        Assert.InRange(spliced, 0, 1);
        Assert.Equal(spliced - clean, accuracy["top1_accuracy_delta"]!.GetValue<double>(), 5);
        // 16 windows of 128 tokens, one prediction fewer than tokens per window, minus predictions from special inputs;
        // predictions of the unknown id are left out and counted (the tiny model's small vocabulary has many).
        var stats = evals["capability"]!["token_stats"]!;
        long predictions = stats["predictions"]!.GetValue<long>(), unknownTargets = stats["excluded_unknown_targets"]!.GetValue<long>();
        Assert.InRange(predictions + unknownTargets, 16 * 100, 16 * 127);
        Assert.InRange(unknownTargets, 1, predictions);
        Assert.Equal(unknownTargets, evals["core"]!["unknown_targets"]!["excluded_unknown_targets"]!.GetValue<long>());
        Assert.Equal(
            evals["core"]!["model_performance_preservation"]!["ce_loss_with_sae"]!.GetValue<double>(),
            evals["capability"]!["core"]!["ce_loss_with_sae"]!.GetValue<double>());
    }

    [Fact]
    public void Sparse_probing_reports_saebench_accuracies_for_every_k_and_task()
    {
        var probing = run.Evals["sparse_probing"]!;
        foreach (string key in new[] { "sae_test_accuracy", "sae_top_1_test_accuracy", "sae_top_5_test_accuracy" })
            Assert.InRange(probing["sae"]![key]!.GetValue<double>(), 0, 1);
        foreach (string key in new[] { "llm_test_accuracy", "llm_top_1_test_accuracy", "llm_top_5_test_accuracy" })
            Assert.InRange(probing["llm"]![key]!.GetValue<double>(), 0, 1);
        var tasks = probing["tasks"]!.AsArray();
        Assert.Contains(tasks, t => t!["task"]!.GetValue<string>().StartsWith("genre:", StringComparison.Ordinal));
        Assert.Contains(tasks, t => t!["task"]!.GetValue<string>() == "pos:NOUN");
    }

    [Fact]
    public void Unlearning_reports_every_setting_and_a_score_or_why_there_is_none()
    {
        var unlearning = run.Evals["unlearning"]!;
        int answered = unlearning["questions"]!["forget"]!["answered_clean"]!.GetValue<int>();
        Assert.InRange(answered, 0, unlearning["questions"]!["forget"]!["built"]!.GetValue<int>());
        Assert.Equal("moby_dick", unlearning["forget"]!.GetValue<string>());
        Assert.InRange(unlearning["questions"]!["forget"]!["mean_log_odds"]!.GetValue<double>(), 1.0, 100);
        Assert.InRange(unlearning["questions"]!["forget_test_documents"]!.GetValue<int>(), 5, 1000);
        if (unlearning["unlearning"]!["unlearning_score"] is null)
        {
            Assert.NotNull(unlearning["not_scored"]);
            return;
        }
        Assert.InRange(unlearning["unlearning"]!["unlearning_score"]!.GetValue<double>(), 0, 1);
        // 2 retain thresholds x 2 feature counts x 2 multipliers.
        Assert.Equal(8, unlearning["settings"]!.AsArray().Count);
        // Only latents that fire on forget text are clamped, so a setting reports how many it really chose.
        foreach (var setting in unlearning["settings"]!.AsArray())
            Assert.InRange(setting!["n_selected"]!.GetValue<int>(), 0, setting["n_features"]!.GetValue<int>());
        foreach (string control in new[] { "positive_control", "random_control" })
        {
            Assert.InRange(unlearning[control]!["unlearning_score"]!.GetValue<double>(), 0, 1);
            Assert.Equal(2, unlearning[control]!["settings"]!.AsArray().Count);
        }
        Assert.Equal(unlearning["questions"]!["retain"]!["answered_clean"]!.GetValue<int>(), unlearning["retain_bar"]!["retain_questions"]!.GetValue<int>());
    }

    [Fact]
    public void Stability_and_smoothness_agree_with_what_must_hold_on_any_model()
    {
        var evals = run.Evals;

        // Every window starts with <|endoftext|>, so the last 127 tokens after one are the whole window again: the
        // truncated pass is the full pass, and the features must agree exactly.
        var whole = evals["stability"]!["by_window"]!["127"]!;
        Assert.Equal(1.0, whole["jaccard"]!.GetValue<double>());
        Assert.Equal(1.0, whole["cosine"]!.GetValue<double>());
        var eight = evals["stability"]!["by_window"]!["8"]!;
        Assert.InRange(eight["jaccard"]!.GetValue<double>(), 0, 1);
        Assert.Equal(eight["targets"]!.GetValue<long>(),
            new[] { "0-3", "4-15", "16-63", "64+" }.Sum(b => eight["by_sentence_distance"]![b]!["targets"]!.GetValue<long>()));

        // The same 16 windows as core, every latent in one level: the per-token L0 is core's.
        var all = evals["smoothness"]!["levels"]!["all"]!;
        Assert.Equal(evals["core"]!["sparsity"]!["l0"]!.GetValue<double>(), all["l0"]!.GetValue<double>(), 4);
        Assert.InRange(all["persistence"]!.GetValue<double>(), 0, 1);
    }
}

/// <summary>One tiny experiment with every evaluation, run in a scratch folder that is deleted afterwards.</summary>
public sealed class TinyEvaluationsRun : IDisposable
{
    readonly TempFolder scratch = new("tsae-evals-");

    public TinyEvaluationsRun()
    {
        string manifest = Tsae.WriteScratchExperiment(scratch, "tiny", Manifest);
        var run = Tsae.Run(["run", manifest], new Dictionary<string, string> { ["TSAE_CACHE"] = Path.Combine(scratch, "cache") });
        Assert.True(run.ExitCode == 0, run.Stderr);
        Evals = JsonNode.Parse(File.ReadAllText(Path.Combine(scratch, "results", "tiny.json")))!["evals"]!;
    }

    public JsonNode Evals { get; }

    public void Dispose()
    {
        scratch.Dispose();
    }

    const string Manifest = """
        extends: _base.yaml
        subject_model:
          # A tiny built-in model (its small vocabulary leaves many unknown targets to count), not the committed one.
          kind: builtin
          path: ""
          builtin: {layers: 3, width: 32, heads: 2, vocab: 512, steps: 4, batch_size: 4, warmup_steps: 1, require_beats_bigram: false}
        activations: {train_tokens: 65536, hook: blocks.2.hook_resid_post}
        sae: {d_sae: 64}
        # A light L1 penalty: at the default the tiny SAE's latents all die within its 500 steps, and there is nothing to measure.
        training: {tokens: 32000, batch_size: 64, checkpoint_every: 0, lr_warmup_steps: 5, l1_warmup_steps: 5, l1_coefficient: 1}
        evals:
          core: {tokens: 2048}
          capability: {tokens: 2048}
          stability: {targets: 16, windows: [8, 127]}
          smoothness: {tokens: 2048}
          sparse_probing: {train_examples_per_class: 16, test_examples_per_class: 8, k_values: [1, 5]}
          # A 4-step model on a 512-id vocabulary: few forget-specific words are in it, so a lower bar and fewer questions.
          unlearning: {sparsity_tokens: 2048, forget_questions: 16, retain_questions: 16, min_questions: 8, min_log_odds: 1.0, cross_entropy_tokens: 1024, multipliers: [25, 200]}
        """;
}
