using System.Collections;

namespace TemporalSae.Manifests;

// Binds a merged manifest tree into the config records by walking the schema (ManifestSchema), never by looking up
// types from strings: every key must be a property of the record at that place, every value must have the
// property's type, and [Range] / [OneOf] / [RequiredKey] hold. Keys not given keep the property initialiser.

static class ManifestBinder
{
    public static T Bind<T>(MappingNode root, ManifestLocations locations, IReadOnlyList<string>? extraRootKeys = null)
        where T : class =>
        (T)BindRecord(ManifestSchema.For(typeof(T)), root, "", locations, extraRootKeys ?? []);

    static object BindRecord(SchemaRecord record, MappingNode node, string path, ManifestLocations locations,
        IReadOnlyList<string> extraKeys)
    {
        object instance = record.CreateDefault();
        foreach (var (key, value) in node.Entries)
        {
            string keyPath = Join(path, key.Value);
            var property = record.Find(key.Value) ?? throw UnknownKey(record, key, keyPath, path, extraKeys);
            locations.Add(keyPath, value.Location);
            property.Property.SetValue(instance, BindValue(property, property.Type, value, keyPath, locations));
        }
        foreach (var property in record.Properties.Where(p => p.Required && node.FindKey(p.Key) is null))
            throw ManifestErrors.At(node.Location, $"missing required key `{Join(path, property.Key)}`.",
                $"Expected {property.Type.Describe()}{(property.Doc is null ? "" : $": {property.Doc}")}",
                "Add it to this manifest or to the base manifest it extends.");
        return instance;
    }

    static object BindValue(SchemaProperty property, SchemaType type, ManifestNode node, string path, ManifestLocations locations)
    {
        switch (type.Kind)
        {
            case ValueKind.Record:
                if (node is not MappingNode mapping)
                    throw ManifestErrors.At(node.Location, $"`{path}` must be a mapping (indented key: value lines), but it is {node.Describe()}.",
                        $"Keys of `{path}`: {KeyList(type.Record!)}.");
                return BindRecord(type.Record!, mapping, path, locations, []);
            case ValueKind.List:
                if (node is not SequenceNode sequence)
                    throw ManifestErrors.At(node.Location, $"`{path}` must be {type.Describe()}, but it is {node.Describe()}.",
                        type.Item!.Kind == ValueKind.Record
                            ? "Write one `- key: value` block per item."
                            : "Write it as `[a, b]` or as `- item` lines; a single item is `[a]`.");
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(type.Item!.ClrType))!;
                for (int i = 0; i < sequence.Items.Count; i++)
                {
                    string itemPath = $"{path}[{i}]";
                    locations.Add(itemPath, sequence.Items[i].Location);
                    list.Add(BindValue(property, type.Item, sequence.Items[i], itemPath, locations));
                }
                return list;
            default:
                if (node is not ScalarNode scalar)
                    throw ManifestErrors.At(node.Location, $"`{path}` must be {type.Describe()}, but it is {node.Describe()}.",
                        node is SequenceNode && type.Kind == ValueKind.Text && property.OneOf is not null
                            ? $"Allowed values: {string.Join(", ", property.OneOf)}." : null);
                return BindScalar(property, type, scalar, path);
        }
    }

    static object BindScalar(SchemaProperty property, SchemaType type, ScalarNode scalar, string path)
    {
        if (scalar.IsNull)
            throw ManifestErrors.At(scalar.Location, $"`{path}` has no value; expected {type.Describe()}.",
                type.Kind == ValueKind.Text ? "Write \"\" for empty text, or remove the key to keep the default." : "Give a value, or remove the key to keep the default.");
        if (!scalar.IsPlain && type.Kind != ValueKind.Text)
            throw ManifestErrors.At(scalar.Location, $"`{path}` must be {type.Describe()}, but it is {scalar.Describe()}.",
                "Remove the quotes.");

        switch (type.Kind)
        {
            case ValueKind.Text:
                if (property.OneOf is { } allowed && !allowed.Contains(scalar.Value))
                    throw ManifestErrors.At(scalar.Location, $"`{path}` is `{scalar.Value}`, which is not an allowed value.",
                        $"Allowed values: {string.Join(", ", allowed)}.", ManifestErrors.DidYouMean(scalar.Value, allowed));
                return scalar.Value;
            case ValueKind.Bool:
                if (!ManifestScalars.TryParseBool(scalar.Value, out bool flag))
                    throw ManifestErrors.At(scalar.Location, $"`{path}` must be true or false, but it is `{scalar.Value}`.");
                return flag;
            case ValueKind.Double:
                if (!ManifestScalars.TryParseDouble(scalar.Value, out double number))
                    throw ManifestErrors.At(scalar.Location,
                        ManifestScalars.IsSpecialFloat(scalar.Value)
                            ? $"`{path}` must be a finite number, but it is `{scalar.Value}`."
                            : $"`{path}` must be a number, but it is `{scalar.Value}`.",
                        "Numbers look like 0.001, 1e-4, 1.0e-4 or 2_000_000.");
                CheckRange(property, number, scalar, path);
                return number;
            default:
                if (!ManifestScalars.TryParseInteger(scalar.Value, out long whole, out bool notIntegral))
                    throw ManifestErrors.At(scalar.Location,
                        notIntegral || ManifestScalars.TryParseDouble(scalar.Value, out _)
                            ? $"`{path}` must be a whole number, but `{scalar.Value}` is not{(notIntegral ? " integral" : " within range")}."
                            : $"`{path}` must be a whole number, but it is `{scalar.Value}`.",
                        "Whole numbers look like 4096, 2_000_000 or 1e6.");
                CheckRange(property, whole, scalar, path);
                if (type.Kind == ValueKind.Int)
                {
                    if (whole is < int.MinValue or > int.MaxValue)
                        throw ManifestErrors.At(scalar.Location, $"`{path}` is {scalar.Value}, too large for this key (at most {int.MaxValue}).");
                    return (int)whole;
                }
                return whole;
        }
    }

    static void CheckRange(SchemaProperty property, double value, ScalarNode scalar, string path)
    {
        if (property.Range is { } range && (value < range.Min || value > range.Max))
            throw ManifestErrors.At(scalar.Location, $"`{path}` is {scalar.Value}, outside the allowed range.",
                $"Expected a value from {ManifestScalars.FormatNumber(range.Min)} to {ManifestScalars.FormatNumber(range.Max)} (inclusive).");
    }

    static Exception UnknownKey(SchemaRecord record, ScalarNode key, string keyPath, string parentPath, IReadOnlyList<string> extraKeys)
    {
        var valid = record.Properties.Select(p => p.Key).Concat(extraKeys).ToList();
        string where = parentPath.Length == 0 ? "Top-level keys" : $"Keys of `{parentPath}`";
        return ManifestErrors.At(key.Location, $"unknown key `{keyPath}`.",
            ManifestErrors.DidYouMean(key.Value, valid),
            $"{where}: {string.Join(", ", valid)}.");
    }

    static string KeyList(SchemaRecord record) => string.Join(", ", record.Properties.Select(p => p.Key));

    internal static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
