using System.Text.Json.Nodes;
using TemporalSae.Review;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Review;

/// <summary>Every plot is drawn from results alone, as a real PNG, and only from runs that have the section it needs.</summary>
public sealed class ResultPlotsTests : IDisposable
{
    readonly TempFolder folder = new("tsae-plots-");

    public void Dispose()
    {
        folder.Dispose();
    }

    static JsonObject Run(string name, bool withEvaluations)
    {
        var curve = new JsonArray();
        for (int i = 1; i <= 5; i++) curve.Add(new JsonObject { ["tokens"] = i * 1000, ["mse"] = 10.0 / i, ["l0"] = 100.0 / i });
        var evals = new JsonObject
        {
            ["core"] = new JsonObject
            {
                ["reconstruction_quality"] = new JsonObject { ["explained_variance"] = 0.8 },
                ["sparsity"] = new JsonObject { ["l0"] = 50.0 },
            },
        };
        if (withEvaluations)
        {
            evals["sparse_probing"] = new JsonObject
            {
                ["llm"] = new JsonObject { ["llm_test_accuracy"] = 0.9, ["llm_top_1_test_accuracy"] = 0.6, ["llm_top_5_test_accuracy"] = 0.7 },
                ["sae"] = new JsonObject { ["sae_test_accuracy"] = 0.85, ["sae_top_1_test_accuracy"] = 0.65, ["sae_top_5_test_accuracy"] = 0.75 },
            };
            evals["stability"] = new JsonObject
            {
                ["by_window"] = new JsonObject { ["8"] = new JsonObject { ["jaccard"] = 0.3 }, ["64"] = new JsonObject { ["jaccard"] = 0.8 } },
            };
            var settings = new JsonArray();
            foreach (double m in new[] { 25.0, 50.0 })
                settings.Add(new JsonObject
                {
                    ["retain_threshold"] = 0.01,
                    ["n_features"] = 20,
                    ["multiplier"] = m,
                    ["forget_accuracy"] = 1 - m / 100,
                    ["retain_accuracy"] = 1.0,
                });
            evals["unlearning"] = new JsonObject { ["settings"] = settings };
        }
        return new JsonObject
        {
            ["experiment"] = new JsonObject { ["name"] = name },
            ["stages"] = new JsonObject { ["sae"] = new JsonObject { ["training_curve"] = curve } },
            ["evals"] = evals,
        };
    }

    static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path} is too small to be a plot");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public void Writes_every_plot_as_png_from_runs_that_have_its_section()
    {
        var written = ResultPlots.Write([Run("run0", withEvaluations: true), Run("run1", withEvaluations: false)], folder);

        string[] expected = ["training-run0.png", "training-run1.png", .. ResultPlots.CrossRun.Select(p => p.File)];
        Assert.Equal(expected.Order(), written.Select(Path.GetFileName).Order()!);
        foreach (string path in written) AssertPng(path);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp.png"));
    }

    [Fact]
    public void Leaves_out_plots_no_run_can_feed()
    {
        var written = ResultPlots.Write([Run("run1", withEvaluations: false)], folder).Select(Path.GetFileName).ToList();
        Assert.Contains("l0-vs-explained-variance.png", written);
        Assert.DoesNotContain("probing-accuracy-vs-k.png", written);
        Assert.DoesNotContain("unlearning-vs-multiplier.png", written);
    }

    [Fact]
    public void The_log_links_the_plots_that_exist()
    {
        string results = Path.Combine(folder, "results");
        Directory.CreateDirectory(results);
        var run = Run("run0", withEvaluations: true);
        run["experiment"]!["manifest"] = "experiments/run0.yaml";
        run["experiment"]!["manifest_hash"] = new string('b', 64);
        File.WriteAllText(Path.Combine(results, "run0.json"), run.ToJsonString());
        Assert.DoesNotContain("results/plots/", ExperimentLog.Render(results));

        ResultPlots.Write(ExperimentLog.ReadRuns(results), Path.Combine(results, ResultPlots.FolderName));
        string log = ExperimentLog.Render(results);
        Assert.Contains("[Sparse probing: test accuracy of top-k probes against k](results/plots/probing-accuracy-vs-k.png)", log);
        Assert.Contains("Training curve: [training-run0.png](results/plots/training-run0.png)", log);
    }
}
