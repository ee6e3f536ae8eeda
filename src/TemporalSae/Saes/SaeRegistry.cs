// The explicit map from a manifest's `sae.architecture` to the class that builds it. No reflection from strings:
// an architecture exists when it is listed here.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes.Temporal;

namespace TemporalSae.Saes;

/// <summary>Builds an SAE for activations of width d_in from the manifest's sae section and a seed.</summary>
public delegate SparseAutoencoder SaeFactory(SaeConfig config, int dIn, long seed);

public static class SaeRegistry
{
    static readonly IReadOnlyDictionary<string, SaeFactory> Factories = Build(
        (StandardSae.RegistryKey, StandardSae.Create),
        (TopKSae.RegistryKey, TopKSae.Create),
        (BatchTopKSae.RegistryKey, BatchTopKSae.Create),
        (TemporalSparseAutoencoder.RegistryKey, TemporalSparseAutoencoder.Create),
        (ContrastiveTemporalSae.RegistryKey, ContrastiveTemporalSae.Create));

    public static IReadOnlyList<string> Keys { get; } = Factories.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Architectures trained on whole sequences [B, T, d] rather than shuffled tokens [N, d].</summary>
    public static bool NeedsSequences(string architecture) =>
        architecture is TemporalSparseAutoencoder.RegistryKey or ContrastiveTemporalSae.RegistryKey;

    public static SparseAutoencoder Create(SaeConfig config, int dIn, long seed) =>
        Factories.TryGetValue(config.Architecture, out SaeFactory? factory)
            ? factory(config, dIn, seed)
            : throw new InvalidInputException($"sae.architecture: unknown architecture `{config.Architecture}`; known: {string.Join(", ", Keys)}");

    internal static IReadOnlyDictionary<string, SaeFactory> Build(params (string Key, SaeFactory Factory)[] entries)
    {
        var factories = new Dictionary<string, SaeFactory>(StringComparer.Ordinal);
        foreach (var (key, factory) in entries)
            if (!factories.TryAdd(key, factory))
                throw new InvalidOperationException($"SAE architecture `{key}` is registered twice");
        return factories;
    }
}
