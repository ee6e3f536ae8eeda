using System.Text.RegularExpressions;

namespace TemporalSae.Manifests;

// `--set path.to.key=value` overrides, applied after the extends chain as if they were one more child manifest, so
// they are validated exactly like file values and every error names the override it came from.

static partial class ManifestOverrides
{
    public static MappingNode Apply(MappingNode merged, string text)
    {
        var whole = new SourceLocation(text, 1, 1, IsOverride: true);
        int equals = text.IndexOf('=');
        if (equals <= 0)
            throw ManifestErrors.At(whole, "an override must have the form `path.to.key=value`.",
                "For example: --set training.learning_rate=3e-4 or --set stages=[data,subject_model]");

        string path = text[..equals].Trim();
        string[] segments = path.Split('.');
        for (int i = 0, column = 1; i < segments.Length; column += segments[i].Length + 1, i++)
        {
            var at = whole with { Column = column };
            if (segments[i].Contains('['))
                throw ManifestErrors.At(at, $"`{path}` indexes a list; list items cannot be set one by one.",
                    "Set the whole list instead, e.g. --set sae.temporal.levels=[{fraction: 1.0, scales: [1], weight: 0.01}]");
            if (!Segment().IsMatch(segments[i]))
                throw ManifestErrors.At(at, $"`{path}` is not a key path; expected snake_case keys joined by dots, e.g. training.batch_size.");
        }
        if (segments[0] == "extends")
            throw ManifestErrors.At(whole, "`extends` cannot be overridden; pass the manifest you want to run instead.");

        string valueText = text[(equals + 1)..];
        ManifestNode value = valueText.TrimStart().Length > 0 && valueText.TrimStart()[0] is '[' or '{' or '"' or '\''
            ? YamlManifestReader.ReadOverrideValue(valueText, text, columnOffset: equals + 1, depth: segments.Length)
            // Other values are one plain scalar, so `--set title=ReLU: a baseline` keeps its colon.
            : new ScalarNode(whole with { Column = equals + 2 }, valueText.Trim(), isPlain: true);

        // Build {a: {b: {c: value}}} for a.b.c and merge it like a child manifest.
        var columns = new int[segments.Length];
        for (int i = 1; i < segments.Length; i++) columns[i] = columns[i - 1] + segments[i - 1].Length + 1;
        ManifestNode node = value;
        for (int i = segments.Length - 1; i >= 0; i--)
        {
            var key = new ScalarNode(whole with { Column = columns[i] + 1 }, segments[i], isPlain: true);
            node = new MappingNode(whole, [new(key, node)]);
        }
        return ManifestMerge.Merge(merged, (MappingNode)node);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_]+$")]
    private static partial Regex Segment();
}
