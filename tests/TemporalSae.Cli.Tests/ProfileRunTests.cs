using System.Text.Json.Nodes;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

/// <summary>`tsae run --profile`: the profile is applied and the result goes to its own folder, never to results/.</summary>
public sealed class ProfileRunTests : IDisposable
{
    readonly TempFolder scratch = new("tsae-profile-");

    public void Dispose()
    {
        scratch.Dispose();
    }

    [Fact]
    public void Smoke_profile_writes_to_the_caches_smoke_results_or_to_results_and_leaves_results_alone()
    {
        string committed = Path.Combine(Tsae.RepositoryRoot, "results", "data-only.json");
        string? before = File.Exists(committed) ? File.ReadAllText(committed) : null;
        var environment = new Dictionary<string, string> { ["TSAE_CACHE"] = Path.Combine(scratch, "cache") };

        var run = Tsae.Run(["run", "experiments/data-only.yaml", "--profile", "smoke"], environment);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonNode.Parse(File.ReadAllText(Path.Combine(scratch, "cache", "smoke-results", "data-only.json")))!;
        Assert.Equal(128, result["config"]!["sae"]!["d_sae"]!.GetValue<int>());   // the profile's width, not the base's 4096
        Assert.Equal(before, File.Exists(committed) ? File.ReadAllText(committed) : null);

        string elsewhere = Path.Combine(scratch, "elsewhere");
        var redirected = Tsae.Run(["run", "experiments/data-only.yaml", "--profile", "smoke", "--results", elsewhere], environment);
        Assert.True(redirected.ExitCode == 0, redirected.Stderr);
        Assert.True(File.Exists(Path.Combine(elsewhere, "data-only.json")));

        var unknown = Tsae.Run(["run", "experiments/data-only.yaml", "--profile", "smok"], environment);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("Available: smoke.", unknown.Stderr);
    }
}
