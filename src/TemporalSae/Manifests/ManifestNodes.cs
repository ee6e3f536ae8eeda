namespace TemporalSae.Manifests;

// The YAML tree of a manifest with the origin of every node (file or --set override, line, column). Manifests from an
// `extends` chain and overrides are merged into one such tree before binding, so an error found while binding can
// still name the file that holds the bad value.

/// <summary>Where a node was written: a manifest file (line and column, 1-based) or a `--set` override.</summary>
public sealed record SourceLocation(string Source, int Line, int Column, bool IsOverride = false)
{
    public override string ToString() =>
        IsOverride ? $"override `--set {Shorten(Source)}` (column {Column})" : $"{Source}:{Line}:{Column}";

    // An override can be generated text of any length; its start and the column find it.
    static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}

public abstract class ManifestNode(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    /// <summary>How the node reads in an error message: "a list", "a mapping", "the text `abc`".</summary>
    public abstract string Describe();
}

public sealed class ScalarNode(SourceLocation location, string value, bool isPlain) : ManifestNode(location)
{
    public string Value { get; } = value;

    /// <summary>Unquoted (plain) scalars are typed by the schema; quoted ones are always text.</summary>
    public bool IsPlain { get; } = isPlain;

    /// <summary>`key:` with nothing after it, `~` or `null`.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsNull ? "an empty value" : IsPlain ? $"`{Value}`" : $"the quoted text \"{Value}\"";
}

public sealed class SequenceNode(SourceLocation location, IReadOnlyList<ManifestNode> items) : ManifestNode(location)
{
    public IReadOnlyList<ManifestNode> Items { get; } = items;

    public override string Describe() => "a list";
}

public sealed class MappingNode(SourceLocation location, IReadOnlyList<KeyValuePair<ScalarNode, ManifestNode>> entries)
    : ManifestNode(location)
{
    public IReadOnlyList<KeyValuePair<ScalarNode, ManifestNode>> Entries { get; } = entries;

    public ManifestNode? Find(string key)
    {
        foreach (var (k, v) in Entries)
            if (k.Value == key) return v;
        return null;
    }

    public ScalarNode? FindKey(string key)
    {
        foreach (var (k, _) in Entries)
            if (k.Value == key) return k;
        return null;
    }

    public MappingNode Without(string key) =>
        new(Location, Entries.Where(e => e.Key.Value != key).ToList());

    public override string Describe() => "a mapping";
}
