using System.Text;

namespace TemporalSae.Manifests;

// The reference table of manifest keys, rendered from the schema records' [Doc], [Range] and [OneOf] attributes and
// their initialisers. README.md carries this exact table between the markers below (a test compares them), and
// `tsae validate --schema` prints it.

public static class ManifestDocs
{
    public const string BeginMarker = "<!-- manifest-keys:begin -->";
    public const string EndMarker = "<!-- manifest-keys:end -->";

    /// <summary>A Markdown table with one row per key: path, type, default, allowed values, description.</summary>
    public static string KeyTable()
    {
        var sb = new StringBuilder();
        sb.Append("| Key | Type | Default | Allowed | Description |\n");
        sb.Append("|---|---|---|---|---|\n");
        Row(sb, ManifestLoader.ExtendsKey, "string", "", "relative path",
            "Base manifest this one inherits from (e.g. `_base.yaml`), a .yaml or .yml file in the run's folder or below it: mappings merge key by key, lists and values are replaced whole.");
        Rows(sb, ManifestSchema.Root, new ExperimentConfig(), "");
        return sb.ToString();
    }

    /// <summary>The README section: the table between its begin and end markers.</summary>
    public static string ReadmeSection() => $"{BeginMarker}\n{KeyTable()}{EndMarker}\n";

    static void Rows(StringBuilder sb, SchemaRecord record, object instance, string prefix)
    {
        foreach (var property in record.Properties)
        {
            string path = prefix + property.Key;
            object value = property.Property.GetValue(instance)!;
            var type = property.Type;
            string defaultText = type.Kind == ValueKind.Record ? "" : $"`{CanonicalManifest.Flow(type, value)}`";
            Row(sb, path, type.Name, defaultText, path == "sae.architecture" ? Architectures() : Allowed(property), property.Doc ?? "");
            if (type.Kind == ValueKind.Record)
                Rows(sb, type.Record!, value, path + ".");
            else if (type.Kind == ValueKind.List && type.Item!.Kind == ValueKind.Record)
            {
                // Item keys default to the item record's initialisers, not to the list's default items.
                var item = type.Item.Record!;
                Rows(sb, item, item.CreateDefault(), path + "[].");
            }
        }
    }

    // The architectures are the registry's entries, not a list in the schema: adding one adds it here.
    static string Architectures() => string.Join(", ", Saes.SaeRegistry.Default.Keys.Select(k => $"`{k}`"));

    static string Allowed(SchemaProperty property)
    {
        string each = property.Type.Kind == ValueKind.List ? "each " : "";
        if (property.Range is { } range)
            return $"{each}{ManifestScalars.FormatNumber(range.Min)} to {ManifestScalars.FormatNumber(range.Max)}";
        if (property.OneOf is { } values)
            return each + string.Join(", ", values.Select(v => $"`{v}`"));
        if (property.Required) return "required";
        return "";
    }

    static void Row(StringBuilder sb, string path, string type, string defaultText, string allowed, string doc) =>
        sb.Append($"| `{path}` | {type} | {Cell(defaultText)} | {Cell(allowed)} | {Cell(doc)} |\n");

    /// <summary>Table cells cannot hold '|' (E||x|| in a description) or line breaks; '<' and '*' would turn into HTML or emphasis.</summary>
    static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ").Replace("<", "&lt;").Replace("*", "\\*");
}
