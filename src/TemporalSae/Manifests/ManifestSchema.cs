using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace TemporalSae.Manifests;

// The manifest schema as data, read by reflection over the config records only (ExperimentConfig and the records it
// contains): snake_case key <-> PascalCase property, value kind, default, [Range], [OneOf], [RequiredKey], [Doc].
// Binding, canonical output, hashing and documentation all walk this one description, so they cannot drift apart.

enum ValueKind { Text, Bool, Int, Long, Double, Record, List }

sealed class SchemaType
{
    public required ValueKind Kind { get; init; }
    public required Type ClrType { get; init; }

    /// <summary>For lists: the item type.</summary>
    public SchemaType? Item { get; init; }

    /// <summary>For records: their keys.</summary>
    public SchemaRecord? Record { get; init; }

    public bool IsScalar => Kind is not (ValueKind.Record or ValueKind.List);

    /// <summary>How the expected type reads in messages and documentation.</summary>
    public string Describe() => Kind switch
    {
        ValueKind.Text => "text",
        ValueKind.Bool => "true or false",
        ValueKind.Int or ValueKind.Long => "a whole number",
        ValueKind.Double => "a number",
        ValueKind.Record => "a mapping",
        _ => Item!.Kind == ValueKind.Record ? "a list of mappings" : $"a list of {Plural(Item)}",
    };

    /// <summary>Short type name for the documentation table.</summary>
    public string Name => Kind switch
    {
        ValueKind.Text => "string",
        ValueKind.Bool => "bool",
        ValueKind.Int => "int",
        ValueKind.Long => "long",
        ValueKind.Double => "float",
        ValueKind.Record => "mapping",
        _ => $"list of {(Item!.Kind == ValueKind.Record ? "mapping" : Item.Name)}",
    };

    static string Plural(SchemaType item) => item.Kind switch
    {
        ValueKind.Text => "strings",
        ValueKind.Bool => "booleans",
        ValueKind.Int or ValueKind.Long => "whole numbers",
        _ => "numbers",
    };
}

sealed class SchemaProperty
{
    public required PropertyInfo Property { get; init; }
    public required string Key { get; init; }
    public required SchemaType Type { get; init; }
    public string? Doc { get; init; }
    public RangeAttribute? Range { get; init; }
    public IReadOnlyList<string>? OneOf { get; init; }
    public bool Required { get; init; }
    public bool Descriptive { get; init; }
    /// <summary>The stage a section configures ([ConfiguresStage]); null for keys every run hashes.</summary>
    public string? Stage { get; init; }

    /// <summary>Left out of the canonical form while equal to <see cref="DefaultValue"/> (see <see cref="OmittedAtDefaultAttribute"/>).</summary>
    public bool OmittedAtDefault { get; init; }

    /// <summary>The key's value in a default instance of its record.</summary>
    public object? DefaultValue { get; init; }
}

sealed class SchemaRecord
{
    public required Type ClrType { get; init; }
    public string? Doc { get; init; }
    public required IReadOnlyList<SchemaProperty> Properties { get; init; }

    public SchemaProperty? Find(string key) => Properties.FirstOrDefault(p => p.Key == key);

    /// <summary>A record with every property at its initialiser's value.</summary>
    public object CreateDefault() => Activator.CreateInstance(ClrType)!;
}

static class ManifestSchema
{
    static readonly ConcurrentDictionary<Type, SchemaRecord> Cache = new();

    public static SchemaRecord Root => For(typeof(ExperimentConfig));

    public static SchemaRecord For(Type recordType) => Cache.GetOrAdd(recordType, Build);

    /// <summary>DSae -> d_sae, LrWarmupSteps -> lr_warmup_steps, AuxKCoefficient -> aux_k_coefficient, L1Coefficient -> l1_coefficient.</summary>
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0)
            {
                char previous = pascal[i - 1];
                bool nextIsLower = i + 1 < pascal.Length && char.IsLower(pascal[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                    sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    static SchemaRecord Build(Type recordType)
    {
        if (!recordType.IsClass || recordType.GetConstructor(Type.EmptyTypes) is null)
            throw new InvalidOperationException($"{recordType.Name} is not a manifest record (a class with a parameterless constructor).");

        // Metadata tokens follow declaration order, which is the documented order of keys in canonical output.
        var properties = recordType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken)
            .Select(p => BuildProperty(recordType, p))
            .ToList();

        var duplicate = properties.GroupBy(p => p.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"{recordType.Name}: two properties map to the key `{duplicate.Key}`.");

        return new SchemaRecord
        {
            ClrType = recordType,
            Doc = recordType.GetCustomAttribute<DocAttribute>()?.Text,
            Properties = properties,
        };
    }

    static SchemaProperty BuildProperty(Type recordType, PropertyInfo property)
    {
        if (!property.CanWrite)
            throw new InvalidOperationException($"{recordType.Name}.{property.Name} has no init accessor.");
        var type = TypeOf(property.PropertyType, $"{recordType.Name}.{property.Name}");
        var range = property.GetCustomAttribute<RangeAttribute>();
        var oneOf = property.GetCustomAttribute<OneOfAttribute>()?.Values;
        var scalar = type.Kind == ValueKind.List ? type.Item! : type;
        if (range is not null && scalar.Kind is not (ValueKind.Int or ValueKind.Long or ValueKind.Double))
            throw new InvalidOperationException($"{recordType.Name}.{property.Name}: [Range] needs a numeric key.");
        if (oneOf is not null && scalar.Kind != ValueKind.Text)
            throw new InvalidOperationException($"{recordType.Name}.{property.Name}: [OneOf] needs a string key.");

        return new SchemaProperty
        {
            Property = property,
            Key = SnakeCase(property.Name),
            Type = type,
            // A section without its own [Doc] is described by its record's [Doc].
            Doc = property.GetCustomAttribute<DocAttribute>()?.Text
                  ?? (type.Kind == ValueKind.Record ? type.Record!.Doc : null),
            Range = range,
            OneOf = oneOf,
            Required = property.GetCustomAttribute<RequiredKeyAttribute>() is not null,
            Descriptive = property.GetCustomAttribute<DescriptiveAttribute>() is not null,
            Stage = property.GetCustomAttribute<ConfiguresStageAttribute>()?.Stage,
            OmittedAtDefault = property.GetCustomAttribute<OmittedAtDefaultAttribute>() is { } omitted
                ? type.IsScalar ? true : throw new InvalidOperationException($"{recordType.Name}.{property.Name}: [OmittedAtDefault] needs a scalar key.")
                : false,
            DefaultValue = type.IsScalar ? property.GetValue(Activator.CreateInstance(recordType)) : null,
        };
    }

    static SchemaType TypeOf(Type type, string where)
    {
        if (type == typeof(string)) return new SchemaType { Kind = ValueKind.Text, ClrType = type };
        if (type == typeof(bool)) return new SchemaType { Kind = ValueKind.Bool, ClrType = type };
        if (type == typeof(int)) return new SchemaType { Kind = ValueKind.Int, ClrType = type };
        if (type == typeof(long)) return new SchemaType { Kind = ValueKind.Long, ClrType = type };
        if (type == typeof(double)) return new SchemaType { Kind = ValueKind.Double, ClrType = type };
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var item = TypeOf(type.GetGenericArguments()[0], where);
            if (item.Kind == ValueKind.List)
                throw new InvalidOperationException($"{where}: lists of lists are not supported in manifests.");
            return new SchemaType { Kind = ValueKind.List, ClrType = type, Item = item };
        }
        if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is not null)
            return new SchemaType { Kind = ValueKind.Record, ClrType = type, Record = For(type) };
        throw new InvalidOperationException($"{where}: type {type.Name} is not supported in manifests.");
    }
}
