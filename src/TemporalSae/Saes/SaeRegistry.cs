// The explicit map from a manifest's `sae.architecture` to the architecture's descriptor. No reflection from
// strings: an architecture exists when it is listed here (or, in tests, in a registry built with With).
using System.Text;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes.Temporal;

namespace TemporalSae.Saes;

public sealed class SaeRegistry
{
    public static SaeRegistry Default { get; } = new(
        new StandardArchitecture(),
        new TopKArchitecture(),
        new BatchTopKArchitecture(),
        new TemporalArchitecture(),
        new ContrastiveTemporalArchitecture());

    public const string TableBeginMarker = "<!-- architectures:begin -->";
    public const string TableEndMarker = "<!-- architectures:end -->";

    readonly IReadOnlyList<SaeArchitecture> architectures;
    readonly Dictionary<string, SaeArchitecture> byKey = new(StringComparer.Ordinal);

    public SaeRegistry(params SaeArchitecture[] architectures)
    {
        foreach (var architecture in architectures)
            if (!byKey.TryAdd(architecture.Key, architecture))
                throw new InvalidOperationException($"SAE architecture `{architecture.Key}` is registered twice");
        this.architectures = architectures;
    }

    /// <summary>This registry with more architectures.</summary>
    public SaeRegistry With(params SaeArchitecture[] more) => new([.. architectures, .. more]);

    public IReadOnlyList<string> Keys => byKey.Keys.Order(StringComparer.Ordinal).ToArray();

    public SaeArchitecture this[string key] => byKey.TryGetValue(key, out var architecture)
        ? architecture
        : throw new InvalidInputException($"sae.architecture: unknown architecture `{key}`; known: {string.Join(", ", Keys)}");

    public SparseAutoencoder Create(SaeConfig config, int dIn, long seed) => this[config.Architecture].Create(config, dIn, seed);

    /// <summary>
    /// The manifest checks that belong to the architecture: a known key (with the nearest one when not), no key of
    /// another architecture set to anything but its default by the run's own file or an override (a base may set them
    /// for the runs that use them, and a resolved configuration, which lists every key, loads back), and the
    /// architecture's own rules.
    /// </summary>
    public void Validate(ExperimentConfig config, ManifestLocations at, Func<SourceLocation, bool> isOwn)
    {
        string key = config.Sae.Architecture;
        if (!byKey.TryGetValue(key, out var architecture))
            throw ManifestErrors.At(at.Of("sae.architecture"), $"`sae.architecture` is `{key}`, which is not a registered architecture.",
                $"Expected one of: {string.Join(", ", Keys)}.", ManifestErrors.DidYouMean(key, Keys));

        var unused = architecture.Unused(config.Sae).ToDictionary(u => u.Key, u => u.Reason, StringComparer.Ordinal);
        var dependent = architectures.SelectMany(a => a.Keys).Distinct(StringComparer.Ordinal).ToArray();
        JsonObject given = CanonicalManifest.ToJson(config), defaults = CanonicalManifest.ToJson(new ExperimentConfig());
        foreach (var (path, location) in at.Given.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (!isOwn(location) || dependent.FirstOrDefault(k => Covers(k, path)) is not { } owner) continue;
            if (architecture.Keys.Contains(owner) && !unused.ContainsKey(owner)) continue;
            if (JsonNode.DeepEquals(At(given, owner), At(defaults, owner))) continue;
            string why = unused.TryGetValue(owner, out string? reason) ? reason : $"it is read only by {string.Join(", ", Readers(owner))}";
            throw ManifestErrors.At(location, $"`{path}` is set, but `sae.architecture: {key}` does not read it ({why}).",
                $"Remove it, or choose an architecture that reads it. Besides the keys every architecture reads, `{key}` reads: " +
                $"{(architecture.Keys.Count == 0 ? "nothing" : string.Join(", ", architecture.Keys))}.");
        }
        architecture.Validate(config, at);
    }

    static JsonNode? At(JsonObject root, string dottedKey)
    {
        JsonNode? node = root;
        foreach (string part in dottedKey.Split('.')) node = node?[part];
        return node;
    }

    /// <summary>The configuration an SAELens folder without a TemporalSae section describes.</summary>
    public SaeConfig FromSaeLens(JsonObject cfg, string cfgPath)
    {
        string architecture = cfg["architecture"]?.GetValue<string>() ?? "standard";
        string activation = cfg["activation_fn_str"]?.GetValue<string>() ?? "relu";
        foreach (var candidate in architectures)
            if (candidate.FromSaeLens(architecture, activation, cfg, cfgPath) is { } config) return config;
        throw new InvalidInputException(
            $"{cfgPath}: architecture `{architecture}` with activation `{activation}` is not an SAELens SAE this project reads; " +
            "it reads standard (relu) and topk folders, and every folder it exports itself");
    }

    /// <summary>The README's table of architectures: key, what it is, batches, and the keys it reads.</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        sb.Append("| Architecture | Trains on | Reads (besides the shared keys) | What it is |\n");
        sb.Append("|---|---|---|---|\n");
        foreach (var a in architectures)
            sb.Append($"| `{a.Key}` | {(a.TrainsOnSequences ? "sequences" : "tokens")} | " +
                      $"{string.Join(", ", a.Keys.Select(k => $"`{k}`"))} | {a.Description} |\n");
        return sb.ToString();
    }

    /// <summary>Whether the key <paramref name="owner"/> is <paramref name="path"/> or a mapping or list above it.</summary>
    static bool Covers(string owner, string path) =>
        path == owner || path.StartsWith(owner + ".", StringComparison.Ordinal) || path.StartsWith(owner + "[", StringComparison.Ordinal);

    IEnumerable<string> Readers(string key) => architectures.Where(a => a.Keys.Contains(key)).Select(a => a.Key);
}
