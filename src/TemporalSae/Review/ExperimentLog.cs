// EXPERIMENTS.md, regenerated from results/*.json as a research log: "## Run N: Title", the
// description, and the results, after a comparison table across runs. Deterministic: no times, stable order.
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TemporalSae.Review;

public static class ExperimentLog
{
    public const string FileName = "EXPERIMENTS.md";

    /// <summary>Headline metrics of the comparison table: column title and full dotted path.</summary>
    static readonly (string Title, string Path)[] Headline =
    [
        ("explained variance", "evals.core.reconstruction_quality.explained_variance"),
        ("L0", "evals.core.sparsity.l0"),
        ("CE loss score", "evals.core.model_performance_preservation.ce_loss_score"),
        ("KL div score", "evals.core.model_behavior_preservation.kl_div_score"),
        ("cossim", "evals.core.reconstruction_quality.cossim"),
        ("dead fraction", "stages.sae.dead_fraction"),
        ("top-1 acc. clean", "evals.capability.next_token_accuracy.top1_accuracy_clean"),
        ("top-1 acc. with SAE", "evals.capability.next_token_accuracy.top1_accuracy_sae"),
        ("unlearning score", "evals.unlearning.unlearning.unlearning_score"),
        ("SAE top-1 probe acc.", "evals.sparse_probing.sae.sae_top_1_test_accuracy"),
        ("Jaccard at w = 8", "evals.stability.by_window.8.jaccard"),
    ];

    // Corpus and store counts are the same for every run on the built-in model; the log shows what differs.
    static readonly HashSet<string> LeftOut = ["stages.data", "stages.activations"];

    /// <summary>The results in a folder, provenance left out, in log order (run0, run1, ..., then other names).</summary>
    public static IReadOnlyList<JsonObject> ReadRuns(string resultsFolder) => Directory.Exists(resultsFolder)
        ? Directory.EnumerateFiles(resultsFolder, "*.json").Select(path => ResultMetrics.Read(path)).OrderBy(RunOrder).ToList()
        : [];

    public static string Render(string resultsFolder)
    {
        var runs = ReadRuns(resultsFolder);
        string plots = Path.Combine(resultsFolder, ResultPlots.FolderName);
        string? PlotLink(string file) => File.Exists(Path.Combine(plots, file)) ? $"results/{ResultPlots.FolderName}/{file}" : null;
        var text = new StringBuilder("# Experiment log\n\n");
        text.Append("Regenerated from `results/` by `tsae log` (or `dotnet build -t:RegenerateLog`); do not edit by hand.\n\n");
        if (runs.Count == 0) return text.Append("No results yet.\n").ToString();

        text.Append("| run | ").Append(string.Join(" | ", Headline.Select(h => h.Title))).Append(" |\n");
        text.Append("|---|").Append(string.Concat(Headline.Select(_ => "---|"))).Append('\n');
        foreach (JsonObject run in runs)
            text.Append("| ").Append(Name(run)).Append(" | ")
                .Append(string.Join(" | ", Headline.Select(h => Format(ResultMetrics.Get(run, h.Path)))))
                .Append(" |\n");

        var crossRun = ResultPlots.CrossRun.Select(p => (p.Caption, Link: PlotLink(p.File))).Where(p => p.Link is not null).ToList();
        if (crossRun.Count > 0)
        {
            text.Append("\nPlots (`tsae plot`):\n\n");
            foreach (var (caption, link) in crossRun) text.Append("- [").Append(caption).Append("](").Append(link).Append(")\n");
        }

        foreach (JsonObject run in runs)
        {
            var experiment = run["experiment"]!;
            string title = experiment["title"]?.GetValue<string>() is { Length: > 0 } t ? t : Name(run);
            text.Append('\n').Append(Heading(run)).Append(title).Append("\n\n");
            if (experiment["description"]?.GetValue<string>() is { Length: > 0 } description)
                text.Append("Description: ").Append(description).Append("\n\n");
            text.Append("Manifest: `").Append(experiment["manifest"]).Append("` (hash `")
                .Append(experiment["manifest_hash"]!.GetValue<string>()[..12]).Append("`)\n\n");
            if (PlotLink(ResultPlots.TrainingCurveFile(Name(run))) is { } curve)
                text.Append("Training curve: [").Append(ResultPlots.TrainingCurveFile(Name(run))).Append("](").Append(curve).Append(")\n\n");
            text.Append("Results:\n\n");
            foreach (var group in ResultMetrics.Flatten(run).Where(m => !LeftOut.Contains(m.Section)).GroupBy(m => m.Section))
                text.Append("- `").Append(group.Key).Append("`: ")
                    .Append(string.Join("; ", group.Select(m => $"{m.Path} {Format(m.Value)}"))).Append('\n');
        }
        return text.ToString();
    }

    static string Name(JsonObject run) => run["experiment"]!["name"]!.GetValue<string>();

    static string Heading(JsonObject run)
    {
        string name = Name(run);
        return name.StartsWith("run", StringComparison.Ordinal) && int.TryParse(name[3..], out int n) ? $"## Run {n}: " : $"## {name}: ";
    }

    /// <summary>run0, run1, ... by number, then every other name alphabetically.</summary>
    static (int, int, string) RunOrder(JsonObject run)
    {
        string name = Name(run);
        return name.StartsWith("run", StringComparison.Ordinal) && int.TryParse(name[3..], out int n) ? (0, n, name) : (1, 0, name);
    }

    static string Format(double? value) => value switch
    {
        null => "–",
        double v when v == Math.Floor(v) && Math.Abs(v) < 1e15 => v.ToString("N0", CultureInfo.InvariantCulture),
        double v => v.ToString("G4", CultureInfo.InvariantCulture),
    };
}
