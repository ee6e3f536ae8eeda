// Held-out feature density per latent level, as SAELens and SAEBench plot it: a histogram of log10 firing frequency
// (the fraction of tokens on which a latent is non-zero) over latents, the latents that never fire, the alive fraction
// (fired at least once) and the dense fraction (fires on more than 10% of tokens). Counted over held-out non-special
// tokens, so unlike the trainer's dead-latent count it measures the SAE out of sample.
using System.Text.Json.Nodes;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Core;

/// <summary>One level's density: latents per half-decade bin of log10 frequency, never-firing latents, fractions.</summary>
public sealed record LevelDensity(string Level, int Latents, long[] Histogram, int NeverFired, double AliveFraction, double DenseFraction);

public sealed class FeatureDensity(IReadOnlyList<LatentLevel> levels)
{
    /// <summary>log10 frequency from -6 to 0 in half decades: 12 bins, edges -6, -5.5, ..., 0.</summary>
    public const double LowestLog10 = -6, BinWidth = 0.5;
    public const int Bins = 12;

    /// <summary>A latent firing on more than this fraction of tokens is dense (SAEBench's and SAELens' usual cut).</summary>
    public const double DenseFrequency = 0.1;

    long tokens;
    long[]? fired;

    public long Tokens => tokens;

    /// <summary>Features [.., d_sae] and <paramref name="keep"/> [..] (bool, true for tokens that count).</summary>
    public void Add(Tensor features, Tensor keep)
    {
        using var scope = NewDisposeScope();
        Tensor f = features.reshape(-1, features.shape[^1])[keep.reshape(-1)];        // [n, d_sae]
        tokens += f.shape[0];
        long[] counts = f.ne(0).sum([0]).to(ScalarType.Int64).data<long>().ToArray();
        fired ??= new long[counts.Length];
        for (int i = 0; i < counts.Length; i++) fired[i] += counts[i];
    }

    /// <summary>The bin of a frequency in (0, 1]: half decades from 1e-6; rarer latents fall in the first, 1 in the last.</summary>
    public static int Bin(double frequency) =>
        Math.Clamp((int)Math.Floor((Math.Log10(frequency) - LowestLog10) / BinWidth), 0, Bins - 1);

    public IReadOnlyList<LevelDensity> Result()
    {
        if (tokens == 0 || fired is null)
            throw new Infrastructure.RunFailedException("the core evaluation saw no non-special tokens for feature density; raise evals.core.tokens");
        return levels.Select(level =>
        {
            var histogram = new long[Bins];
            int never = 0, dense = 0;
            for (int i = level.Start; i < level.End; i++)
            {
                if (fired[i] == 0) { never++; continue; }
                double frequency = fired[i] / (double)tokens;
                histogram[Bin(frequency)]++;
                if (frequency > DenseFrequency) dense++;
            }
            return new LevelDensity(level.Name, level.Count, histogram, never,
                (level.Count - never) / (double)level.Count, dense / (double)level.Count);
        }).ToArray();
    }

    public JsonObject ToJson()
    {
        var byLevel = new JsonObject();
        foreach (LevelDensity level in Result())
            byLevel[level.Level] = new JsonObject
            {
                ["latents"] = level.Latents,
                ["log10_frequency_histogram"] = new JsonArray(level.Histogram.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["never_fired"] = level.NeverFired,
                ["alive_fraction"] = level.AliveFraction,
                ["dense_fraction"] = level.DenseFraction,
            };
        return new JsonObject
        {
            ["tokens"] = tokens,
            ["bin_edges_log10"] = new JsonArray(Enumerable.Range(0, Bins + 1)
                .Select(i => (JsonNode?)JsonValue.Create(LowestLog10 + i * BinWidth)).ToArray()),
            ["dense_above"] = DenseFrequency,
            ["levels"] = byLevel,
        };
    }
}
