using System.Text.Json.Nodes;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    readonly TempFolder scratch = new("tsae-cli-");

    public void Dispose()
    {
        scratch.Dispose();
    }

    string Manifest(string name, string text) => Tsae.WriteScratchExperiment(scratch, name, text);

    [Fact]
    public void Invalid_manifest_exits_2_with_file_line_and_key_and_no_stack_trace()
    {
        string path = Manifest("typo", "extends: _base.yaml\ntraining:\n  learning_rat: 1e-3\n");
        var outcome = Tsae.Run(["run", path]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("typo.yaml:3:3", outcome.Stderr);
        Assert.Contains("training.learning_rat", outcome.Stderr);
        Assert.Contains("learning_rate", outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
    }

    [Theory]
    [InlineData("sae:\n  architecture: jumprelu-xyz\n", "`sae.architecture` is `jumprelu-xyz`, which is not a registered architecture")]
    [InlineData("sae:\n  d_sae: 9000000\n", "exceeds training.memory_limit_mb = 16384 MiB")]
    [InlineData("sae:\n  temporal:\n    buffer: 8\n", "`sae.architecture: standard` does not read it")]
    public void What_the_sae_stage_would_refuse_stops_the_run_before_any_stage(string yaml, string error)
    {
        string path = Manifest("refused", "extends: _base.yaml\n" + yaml);
        string cache = Path.Combine(scratch, "cache");
        var outcome = Tsae.Run(["run", path], new Dictionary<string, string> { ["TSAE_CACHE"] = cache });
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(error, outcome.Stderr);
        // Not a minute of data, model or activations was spent on it.
        Assert.False(Directory.Exists(cache) && Directory.EnumerateFileSystemEntries(cache).Any(), "the run started a stage");
        Assert.False(File.Exists(Path.Combine(scratch, "results", "refused.json")));
    }

    [Fact]
    public void Same_manifest_gives_byte_identical_results_across_fresh_caches()
    {
        string path = Manifest("determinism", "extends: _base.yaml\nstages: [data]\n");
        string[] results = new string[2];
        for (int i = 0; i < 2; i++)
        {
            var outcome = Tsae.Run(["run", path], new Dictionary<string, string> { ["TSAE_CACHE"] = Path.Combine(scratch, $"cache{i}") });
            Assert.True(outcome.ExitCode == 0, outcome.Stderr);
            string file = Path.Combine(scratch, "results", "determinism.json");
            var document = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            Assert.False(document["provenance"]!["stages"]!["data"]!["from_cache"]!.GetValue<bool>());
            document.Remove("provenance");
            results[i] = document.ToJsonString();
        }
        Assert.Equal(results[0], results[1]);
        Assert.Contains("\"documents\":500", results[0]);
    }

    [Fact]
    public void RunExperiment_target_names_the_available_experiments_for_an_unknown_one()
    {
        var outcome = Tsae.Start("dotnet", ["build", "-t:RunExperiment", "-p:Exp=no-such-run", "-v:q", "-nologo"]);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("No experiment 'no-such-run'", outcome.Stdout);
        Assert.Contains("run0", outcome.Stdout);
    }

    [Fact]
    public void RunExperiment_target_fails_with_the_runners_own_message()
    {
        var outcome = Tsae.Start("dotnet", ["build", "-t:RunExperiment", "-p:Exp=data-only", "-p:Set=training.tokenz=5", "-v:q", "-nologo"]);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("unknown key `training.tokenz`", outcome.Stdout);
        Assert.Contains("Did you mean `tokens`?", outcome.Stdout);
    }
}
