namespace TemporalSae.Manifests;

/// <summary>
/// Where each key of a resolved manifest was given (after extends and overrides), so rules that relate several keys
/// can point at the value a reader must change. A key left at its default is reported at its nearest given parent,
/// or at the manifest itself.
/// </summary>
public sealed class ManifestLocations(SourceLocation root)
{
    readonly Dictionary<string, SourceLocation> values = new(StringComparer.Ordinal);

    public SourceLocation Root { get; } = root;

    internal void Add(string path, SourceLocation location) => values[path] = location;

    /// <summary>True when the key was written in a manifest or an override rather than left at its default.</summary>
    public bool IsGiven(string path) => values.ContainsKey(path);

    /// <summary>Every key that was written, with where.</summary>
    public IEnumerable<KeyValuePair<string, SourceLocation>> Given => values;

    public SourceLocation Of(string path)
    {
        for (string p = path; p.Length > 0; p = Parent(p))
            if (values.TryGetValue(p, out var location)) return location;
        return Root;
    }

    static string Parent(string path)
    {
        int cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut < 0 ? "" : path[..cut];
    }
}
