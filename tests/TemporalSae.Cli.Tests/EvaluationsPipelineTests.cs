using System.Text.Json.Nodes;

namespace TemporalSae.Cli.Tests;

/// <summary>The whole graph at tiny sizes, evaluations included, through the real command.</summary>
public sealed class EvaluationsPipelineTests : IDisposable
{
    readonly string scratch = Path.Combine(Path.GetTempPath(), $"tsae-evals-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
    }

    const string Manifest = """
        extends: _base.yaml
        subject_model:
          builtin: {layers: 3, width: 32, heads: 2, vocab: 512, steps: 4, batch_size: 4, warmup_steps: 1, require_beats_bigram: false}
        activations: {train_tokens: 65536}
        sae: {d_sae: 64}
        training: {tokens: 32000, batch_size: 64, checkpoint_every: 0, lr_warmup_steps: 5, l1_warmup_steps: 5}
        evals:
          core: {tokens: 2048}
          capability: {tokens: 2048}
        """;

    [Fact]
    public void Capability_reports_accuracies_beside_cores_cross_entropy_and_kl()
    {
        string manifest = Tsae.WriteScratchExperiment(scratch, "tiny", Manifest);

        var run = Tsae.Run(["run", manifest], new Dictionary<string, string> { ["TSAE_CACHE"] = Path.Combine(scratch, "cache") });
        Assert.True(run.ExitCode == 0, run.Stderr);

        var evals = JsonNode.Parse(File.ReadAllText(Path.Combine(scratch, "results", "tiny.json")))!["evals"]!;
        var accuracy = evals["capability"]!["next_token_accuracy"]!;
        double clean = accuracy["top1_accuracy_clean"]!.GetValue<double>(), spliced = accuracy["top1_accuracy_sae"]!.GetValue<double>();
        Assert.InRange(clean, 0, 1);
        Assert.InRange(spliced, 0, 1);
        Assert.Equal(spliced - clean, accuracy["top1_accuracy_delta"]!.GetValue<double>(), 5);
        // 16 windows of 128 tokens, one prediction fewer than tokens per window, minus predictions from special inputs.
        Assert.InRange(evals["capability"]!["token_stats"]!["predictions"]!.GetValue<long>(), 16 * 100, 16 * 127);
        Assert.Equal(
            evals["core"]!["model_performance_preservation"]!["ce_loss_with_sae"]!.GetValue<double>(),
            evals["capability"]!["core"]!["ce_loss_with_sae"]!.GetValue<double>());
    }
}
