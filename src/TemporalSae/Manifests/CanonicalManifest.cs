using System.Collections;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TemporalSae.Infrastructure;

namespace TemporalSae.Manifests;

// The canonical form of a resolved config: every key (defaults included) in schema declaration order, snake_case,
// one fixed spelling per value. Two manifests that resolve to the same values give the same text whatever their
// comments, key order, number spelling or extends chain; the manifest hash is taken over this form. A key marked
// [OmittedAtDefault] is left out while at its default, so adding such a key does not change existing hashes.

public static partial class CanonicalManifest
{
    static readonly JsonSerializerOptions CompactJson = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The resolved config as block YAML, ending with a newline; it loads back to the same config.</summary>
    public static string ToYaml(ExperimentConfig config)
    {
        var sb = new StringBuilder();
        WriteRecord(sb, ManifestSchema.Root, config, indent: 0);
        return sb.ToString();
    }

    /// <summary>
    /// The resolved config as a JSON object built in schema order (a fresh object per call, so callers may attach it
    /// to their own documents). Without <paramref name="includeDescriptive"/>, keys marked [Descriptive] are left out.
    /// </summary>
    public static JsonObject ToJson(ExperimentConfig config, bool includeDescriptive = true) =>
        RecordToJson(ManifestSchema.Root, config, includeDescriptive);

    /// <summary>
    /// SHA-256 of the compact canonical JSON without the descriptive keys (name, title, description) and without the
    /// sections of stages the manifest does not run: the hash of everything that determines what the run computes.
    /// </summary>
    public static string Hash(ExperimentConfig config)
    {
        JsonObject json = ToJson(config, includeDescriptive: false);
        foreach (var section in ManifestSchema.Root.Properties)
            if (section.Stage is { } stage && !config.Stages.Contains(stage)) json.Remove(section.Key);
        return ContentHash.Of(json.ToJsonString(CompactJson));
    }

    static void WriteRecord(StringBuilder sb, SchemaRecord record, object instance, int indent)
    {
        string pad = new(' ', indent);
        foreach (var property in record.Properties)
        {
            object value = property.Property.GetValue(instance)!;
            if (AtOmittedDefault(property, value)) continue;
            switch (property.Type.Kind)
            {
                case ValueKind.Record:
                    sb.Append(pad).Append(property.Key).Append(":\n");
                    WriteRecord(sb, property.Type.Record!, value, indent + 2);
                    break;
                case ValueKind.List when property.Type.Item!.Kind == ValueKind.Record && ((IList)value).Count > 0:
                    sb.Append(pad).Append(property.Key).Append(":\n");
                    foreach (object item in (IList)value)
                    {
                        // Render the item as a mapping indented by 4, then turn its first indent into "  - ".
                        var itemText = new StringBuilder();
                        WriteRecord(itemText, property.Type.Item.Record!, item, indent + 4);
                        sb.Append(pad).Append("  - ").Append(itemText.ToString(indent + 4, itemText.Length - indent - 4));
                    }
                    break;
                default:
                    sb.Append(pad).Append(property.Key).Append(": ").Append(Flow(property.Type, value)).Append('\n');
                    break;
            }
        }
    }

    static bool AtOmittedDefault(SchemaProperty property, object value) => property.OmittedAtDefault && Equals(value, property.DefaultValue);

    /// <summary>A value in YAML flow style: `42`, `1e-7`, `npm`, `"${GPT2_DIR}"`, `[data, sae]`, `{fraction: 1.0}`.</summary>
    internal static string Flow(SchemaType type, object value) => type.Kind switch
    {
        ValueKind.Text => Text((string)value),
        ValueKind.Bool => (bool)value ? "true" : "false",
        ValueKind.Int => ((int)value).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ValueKind.Long => ((long)value).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ValueKind.Double => ManifestScalars.FormatDouble((double)value),
        ValueKind.List => "[" + string.Join(", ", ((IList)value).Cast<object>().Select(item => Flow(type.Item!, item))) + "]",
        _ => "{" + string.Join(", ", type.Record!.Properties.Where(p => !AtOmittedDefault(p, p.Property.GetValue(value)!)).Select(p => $"{p.Key}: {Flow(p.Type, p.Property.GetValue(value)!)}")) + "}",
    };

    /// <summary>Plain when the text cannot be read as anything else, double-quoted (JSON escapes) otherwise.</summary>
    static string Text(string value)
    {
        bool plain = SafePlain().IsMatch(value)
                     && !ManifestScalars.TryParseBool(value, out _)
                     && !ManifestScalars.TryParseDouble(value, out _)
                     && value.ToLowerInvariant() is not ("null" or "yes" or "no" or "on" or "off" or "y" or "n");
        return plain ? value : JsonSerializer.Serialize(value, CompactJson);
    }

    static JsonObject RecordToJson(SchemaRecord record, object instance, bool includeDescriptive)
    {
        var json = new JsonObject();
        foreach (var property in record.Properties)
            if ((includeDescriptive || !property.Descriptive) && !AtOmittedDefault(property, property.Property.GetValue(instance)!))
                json[property.Key] = ValueToJson(property.Type, property.Property.GetValue(instance)!, includeDescriptive);
        return json;
    }

    static JsonNode ValueToJson(SchemaType type, object value, bool includeDescriptive) => type.Kind switch
    {
        ValueKind.Text => JsonValue.Create((string)value),
        ValueKind.Bool => JsonValue.Create((bool)value),
        ValueKind.Int => JsonValue.Create((int)value),
        ValueKind.Long => JsonValue.Create((long)value),
        ValueKind.Double => JsonValue.Create((double)value),
        ValueKind.List => new JsonArray(((IList)value).Cast<object>().Select(item => (JsonNode?)ValueToJson(type.Item!, item, includeDescriptive)).ToArray()),
        _ => RecordToJson(type.Record!, value, includeDescriptive),
    };

    [GeneratedRegex(@"^[A-Za-z0-9_/][A-Za-z0-9_./-]*$")]
    private static partial Regex SafePlain();
}
