// Numeric leaves of result documents as dotted paths, grouped by section: the common ground of diffs and the log.
using System.Text.Json;
using System.Text.Json.Nodes;
using TemporalSae.Results;

namespace TemporalSae.Review;

public static class ResultMetrics
{
    /// <summary>
    /// Every number under "stages" and "evals" (arrays such as training curves left out) as (section, path, value),
    /// e.g. ("evals.core", "reconstruction_quality.explained_variance", 0.91). Provenance is never included.
    /// </summary>
    public static IReadOnlyList<(string Section, string Path, double Value)> Flatten(JsonObject document)
    {
        var metrics = new List<(string, string, double)>();
        foreach (string top in new[] { "stages", "evals" })
            if (document[top] is JsonObject sections)
                foreach (var (name, section) in sections)
                    Walk(section, $"{top}.{name}", "", metrics);
        return metrics;
    }

    /// <summary>One metric by its full dotted path (e.g. "evals.core.sparsity.l0"), or null when absent.</summary>
    public static double? Get(JsonObject document, string path)
    {
        JsonNode? node = document;
        foreach (string part in path.Split('.'))
            node = node is JsonObject obj ? obj[part] : null;
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;
    }

    public static JsonObject Read(string path) => ResultDocument.WithoutProvenance(JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    static void Walk(JsonNode? node, string section, string prefix, List<(string, string, double)> metrics)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj) Walk(child, section, prefix.Length == 0 ? key : $"{prefix}.{key}", metrics);
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                metrics.Add((section, prefix, value.GetValue<double>()));
                break;
        }
    }
}
