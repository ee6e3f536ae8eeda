// A run whose built-in model was published from the same subject_model stage key takes the committed checkpoint
// instead of training it again, says so in its result, and trains when asked to.
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

public sealed class PublishedModelReuseTests : IDisposable
{
    readonly TempFolder scratch = new("tsae-reuse-");

    public void Dispose()
    {
        scratch.Dispose();
    }

    const string Manifest = """
        extends: _base.yaml
        stages: [data, subject_model]
        subject_model:
          kind: builtin
          path: ""
          builtin: {layers: 1, width: 32, heads: 2, vocab: 512, steps: 3, batch_size: 4, warmup_steps: 1, require_beats_bigram: false}
        activations: {hook: blocks.0.hook_resid_post}
        """;

    static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void A_model_published_from_the_same_stage_key_is_taken_instead_of_trained()
    {
        string manifest = Tsae.WriteScratchExperiment(scratch, "tiny", Manifest);
        string cache = Path.Combine(scratch, "cache");
        var environment = new Dictionary<string, string> { ["TSAE_CACHE"] = cache };
        string result = Path.Combine(scratch, "results", "tiny.json");

        var trained = Tsae.Run(["run", manifest], environment);
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        Assert.Contains("step 3/3", trained.Stdout);
        JsonNode first = JsonNode.Parse(File.ReadAllText(result))!;
        var published = Tsae.Run(["model", "publish", manifest, "--to", "models/tiny"], environment);
        Assert.True(published.ExitCode == 0, published.Stderr);

        Directory.Delete(Path.Combine(cache, "subject_model"), recursive: true);
        var taken = Tsae.Run(["run", manifest], environment);
        Assert.True(taken.ExitCode == 0, taken.Stderr);
        Assert.DoesNotContain("step 3/3", taken.Stdout);
        Assert.Contains("models/tiny was published from this stage key", taken.Stdout);
        JsonNode second = JsonNode.Parse(File.ReadAllText(result))!;
        Assert.True(JsonNode.DeepEquals(first["stages"]!["subject_model"], second["stages"]!["subject_model"]));
        var build = second["provenance"]!["stages"]!["subject_model"]!["build"]!["published_model"]!;
        Assert.Equal("models/tiny", build["folder"]!.GetValue<string>());
        Assert.Equal(first["provenance"]!["git_commit"]!.GetValue<string>(), build["trained_at_commit"]!.GetValue<string>());
        string key = second["provenance"]!["stages"]!["subject_model"]!["cache_key"]!.GetValue<string>();
        Assert.Equal(Sha(Path.Combine(scratch, "models", "tiny", "model.safetensors")),
            Sha(Path.Combine(cache, "subject_model", key, "model", "model.safetensors")));
        // A run that took the published model cannot publish it again as if it had trained it.
        var again = Tsae.Run(["model", "publish", manifest, "--to", "models/tiny2"], environment);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("--retrain-subject-model", again.Stderr);

        Directory.Delete(Path.Combine(cache, "subject_model"), recursive: true);
        var retrained = Tsae.Run(["run", manifest, "--retrain-subject-model"], environment);
        Assert.True(retrained.ExitCode == 0, retrained.Stderr);
        Assert.Contains("step 3/3", retrained.Stdout);
    }
}
