// PNG plots of the committed results (ScottPlot), for the experiment log and for reading a pull request at a glance:
// each run's training curve, L0 against explained variance across runs, probing accuracy against k, feature
// stability against the truncated window, and unlearning accuracy against the clamp multiplier. Every plot is drawn
// from results/*.json alone; a run without the section a plot needs is left out of that plot.
using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;
using TemporalSae.Infrastructure;

namespace TemporalSae.Review;

public static class ResultPlots
{
    public const string FolderName = "plots";
    const int Width = 900, Height = 560;

    /// <summary>The cross-run plots by file name, with the caption the log shows.</summary>
    public static readonly IReadOnlyList<(string File, string Caption)> CrossRun =
    [
        ("l0-vs-explained-variance.png", "L0 against explained variance (core evaluation)"),
        ("probing-accuracy-vs-k.png", "Sparse probing: test accuracy of top-k probes against k"),
        ("stability-vs-window.png", "Feature stability: Jaccard of active latents against the truncated context w"),
        ("unlearning-vs-multiplier.png", "Unlearning: forget and retain accuracy against the clamp multiplier"),
    ];

    public static string TrainingCurveFile(string run) => $"training-{run}.png";

    /// <summary>Draws every plot the results support into <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<JsonObject> runs, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        void Save(Plot? plot, string file)
        {
            if (plot is null) return;
            string path = Path.Combine(folder, file);
            string temporary = path + ".tmp.png";
            plot.SavePng(temporary, Width, Height);
            File.Move(temporary, path, overwrite: true);
            written.Add(path);
        }

        foreach (JsonObject run in runs) Save(TrainingCurve(run), TrainingCurveFile(Name(run)));
        Save(L0VersusExplainedVariance(runs), CrossRun[0].File);
        Save(ProbingVersusK(runs), CrossRun[1].File);
        Save(StabilityVersusWindow(runs), CrossRun[2].File);
        Save(UnlearningVersusMultiplier(runs), CrossRun[3].File);
        return written;
    }

    static Plot? TrainingCurve(JsonObject run)
    {
        if (run["stages"]?["sae"]?["training_curve"] is not JsonArray curve || curve.Count == 0) return null;
        double[] tokens = curve.Select(p => Number(p!["tokens"])).ToArray();
        var plot = NewPlot($"{Name(run)}: SAE training", "training tokens", "MSE (per token, scaled inputs)");
        var mse = plot.Add.Scatter(tokens, curve.Select(p => Number(p!["mse"])).ToArray());
        mse.LegendText = "MSE";
        var l0 = plot.Add.Scatter(tokens, curve.Select(p => Number(p!["l0"])).ToArray());
        l0.LegendText = "L0 (right axis)";
        l0.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "L0";
        plot.ShowLegend();
        return plot;
    }

    static Plot? L0VersusExplainedVariance(IReadOnlyList<JsonObject> runs)
    {
        var points = runs.Select(run => (Name: Name(run), L0: Get(run, "evals.core.sparsity.l0"),
            Ev: Get(run, "evals.core.reconstruction_quality.explained_variance"))).Where(p => p.L0 is not null && p.Ev is not null).ToList();
        if (points.Count == 0) return null;
        var plot = NewPlot("Sparsity against reconstruction", "L0 (active latents per token)", "explained variance");
        // A legend rather than labels beside the markers: runs at equal L0 (run1 and run3) would print over each other.
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond];
        for (int i = 0; i < points.Count; i++)
        {
            var marker = plot.Add.Marker(points[i].L0!.Value, points[i].Ev!.Value, shapes[i % shapes.Length], size: 12);
            marker.LegendText = points[i].Name;
        }
        plot.ShowLegend();
        return plot;
    }

    static Plot? ProbingVersusK(IReadOnlyList<JsonObject> runs)
    {
        var plot = NewPlot("Sparse probing", "k (latents or model dimensions)", "mean test accuracy");
        bool any = false, modelDrawn = false;
        foreach (JsonObject run in runs)
        {
            if (run["evals"]?["sparse_probing"] is not JsonObject probing) continue;
            var sae = Series(probing["sae"], "sae_top_", "_test_accuracy");
            if (sae.Count == 0) continue;
            var line = plot.Add.Scatter(sae.Select(p => p.X).ToArray(), sae.Select(p => p.Y).ToArray());
            line.LegendText = Name(run);
            any = true;
            // The model's activations are the same for every run on one subject model and layer: draw them once.
            var llm = Series(probing["llm"], "llm_top_", "_test_accuracy");
            if (!modelDrawn && llm.Count > 0)
            {
                var model = plot.Add.Scatter(llm.Select(p => p.X).ToArray(), llm.Select(p => p.Y).ToArray());
                model.LegendText = "model activations";
                model.LinePattern = LinePattern.Dashed;
                model.Color = Colors.Black;
                modelDrawn = true;
            }
        }
        if (!any) return null;
        plot.ShowLegend();
        return plot;
    }

    static Plot? StabilityVersusWindow(IReadOnlyList<JsonObject> runs)
    {
        var plot = NewPlot("Feature stability", "truncated context w (tokens)", "Jaccard of active latents, full vs truncated");
        bool any = false;
        foreach (JsonObject run in runs)
        {
            if (run["evals"]?["stability"]?["by_window"] is not JsonObject byWindow || byWindow.Count == 0) continue;
            var points = byWindow.Where(p => p.Value?["jaccard"] is JsonValue)
                .Select(p => (X: double.Parse(p.Key, CultureInfo.InvariantCulture), Y: Number(p.Value!["jaccard"]))).OrderBy(p => p.X).ToList();
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = Name(run);
            any = true;
        }
        if (!any) return null;
        plot.ShowLegend();
        return plot;
    }

    /// <summary>Per run, the strongest selection (largest retain threshold and feature count) at each multiplier.</summary>
    static Plot? UnlearningVersusMultiplier(IReadOnlyList<JsonObject> runs)
    {
        var plot = NewPlot("Unlearning (largest retain threshold and feature count)", "multiplier m (chosen latents set to -m)", "accuracy on kept questions");
        bool any = false;
        foreach (JsonObject run in runs)
        {
            if (run["evals"]?["unlearning"]?["settings"] is not JsonArray settings || settings.Count == 0) continue;
            double threshold = settings.Max(s => Number(s!["retain_threshold"]));
            double features = settings.Max(s => Number(s!["n_features"]));
            var chosen = settings.Where(s => Number(s!["retain_threshold"]) == threshold && Number(s!["n_features"]) == features
                    && s!["forget_accuracy"] is JsonValue && s["retain_accuracy"] is JsonValue)
                .OrderBy(s => Number(s!["multiplier"])).ToList();
            if (chosen.Count == 0) continue;
            double[] m = chosen.Select(s => Number(s!["multiplier"])).ToArray();
            var forget = plot.Add.Scatter(m, chosen.Select(s => Number(s!["forget_accuracy"])).ToArray());
            forget.LegendText = $"{Name(run)} forget";
            var retain = plot.Add.Scatter(m, chosen.Select(s => Number(s!["retain_accuracy"])).ToArray());
            retain.LegendText = $"{Name(run)} retain";
            retain.LinePattern = LinePattern.Dashed;
            retain.Color = forget.Color;
            any = true;
        }
        if (!any) return null;
        plot.ShowLegend();
        return plot;
    }

    /// <summary>Points (k, value) from keys "{prefix}{k}{suffix}" of a section, by k.</summary>
    static List<(double X, double Y)> Series(JsonNode? section, string prefix, string suffix) => section is JsonObject obj
        ? obj.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) && p.Key.EndsWith(suffix, StringComparison.Ordinal) && p.Value is JsonValue)
            .Select(p => (X: double.Parse(p.Key[prefix.Length..^suffix.Length], CultureInfo.InvariantCulture), Y: Number(p.Value)))
            .OrderBy(p => p.X).ToList()
        : [];

    static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        return plot;
    }

    static string Name(JsonObject run) => run["experiment"]!["name"]!.GetValue<string>();

    static double? Get(JsonObject run, string path) => ResultMetrics.Get(run, path);

    // Through the JSON text: a parsed number and one built in memory as an int read the same way.
    static double Number(JsonNode? node) => node is JsonValue value
        ? double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture)
        : throw new InvalidInputException("a plotted value is missing from a result");
}
