using System.Text.Json.Nodes;
using TemporalSae.Pipeline;
using TemporalSae.Review;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Review;

public sealed class ReviewTests : IDisposable
{
    readonly TempFolder folder = new("tsae-review-");

    public void Dispose()
    {
        folder.Dispose();
    }

    static JsonObject Result(string name, double ev, double l0, int dSae = 4096) => new()
    {
        ["schema_version"] = 1,
        ["experiment"] = new JsonObject
        {
            ["name"] = name,
            ["title"] = $"Title of {name}",
            ["description"] = "What it tests.",
            ["manifest"] = $"experiments/{name}.yaml",
            ["manifest_hash"] = new string('a', 64),
        },
        ["config"] = new JsonObject { ["sae"] = new JsonObject { ["d_sae"] = dSae } },
        ["stages"] = new JsonObject { ["sae"] = new JsonObject { ["dead_fraction"] = 0.01 } },
        ["evals"] = new JsonObject
        {
            ["core"] = new JsonObject
            {
                ["reconstruction_quality"] = new JsonObject { ["explained_variance"] = ev },
                ["sparsity"] = new JsonObject { ["l0"] = l0 },
            },
        },
    };

    [Fact]
    public void Committed_experiment_log_is_up_to_date()
    {
        string root = RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory);
        string expected = ExperimentLog.Render(Path.Combine(root, "results"));
        string committed = File.ReadAllText(Path.Combine(root, ExperimentLog.FileName));
        Assert.True(expected == committed, "EXPERIMENTS.md is out of date; regenerate it: dotnet build -t:RegenerateLog");
    }

    [Fact]
    public void Log_orders_runs_by_number_and_compares_headline_metrics()
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, ev) in new[] { ("run10", 0.7), ("run2", 0.8), ("other", 0.9) })
            File.WriteAllText(Path.Combine(folder, $"{name}.json"), Result(name, ev, 20).ToJsonString());
        string log = ExperimentLog.Render(folder);
        Assert.True(log.IndexOf("## Run 2: Title of run2", StringComparison.Ordinal) < log.IndexOf("## Run 10: Title of run10", StringComparison.Ordinal));
        Assert.True(log.IndexOf("## Run 10:", StringComparison.Ordinal) < log.IndexOf("## other: Title of other", StringComparison.Ordinal));
        Assert.Contains("| run2 | 0.8 | 20 | – | – | – | 0.01 |", log);
        Assert.Equal(log, ExperimentLog.Render(folder));
    }

    [Fact]
    public void Diff_groups_by_section_marks_changes_beyond_tolerance_and_lists_config_changes()
    {
        string diff = ResultDiff.Markdown("run0.json", Result("run0", 0.9, 20), Result("run0", 0.9000001, 25, dSae: 8192), Tolerance.Default);
        Assert.Contains("- `sae.d_sae`: 4096 -> 8192", diff);
        Assert.Contains("`evals.core`", diff);
        Assert.Contains("| sparsity.l0 | 20 | 25 | 5 | +25.00% | **beyond tolerance** |", diff);
        Assert.True(diff.Contains("| reconstruction_quality.explained_variance | 0.9 | 0.9 | 1E-07 | +0.00% |  |", StringComparison.Ordinal), diff);
        Assert.DoesNotContain("dead_fraction", diff); // unchanged: hidden unless --all
        Assert.Contains("New result.", ResultDiff.Markdown("x", null, Result("x", 1, 1), Tolerance.Default));
    }
}
