// Hierarchical temporal consistency levels (docs/science.md, "The Temporal SAE" 3): contiguous latent ranges, fastest
// first, each with its own scales and weight, resolved from the manifest's sae.temporal.levels.
using TemporalSae.Manifests;

namespace TemporalSae.Saes.Temporal;

/// <summary>One level: latents [Start, End), step sizes compared, and the level's weight in the loss.</summary>
public sealed record ResolvedLevel(int Start, int End, IReadOnlyList<int> Scales, double Weight);

public static class ConsistencyLevels
{
    /// <summary>How far the fractions may sum from 1: far above rounding in written decimals, far below a missing latent.</summary>
    public const double FractionTolerance = 1e-9;

    /// <summary>
    /// The rules of sae.temporal.levels: at least one level, fractions that sum to 1 and each give a latent of d_sae,
    /// scales from 1 to context_size - 1 without repeats. Each error points at the value to change.
    /// </summary>
    public static void Check(IReadOnlyList<ConsistencyLevel> levels, int dSae, int contextSize, ManifestLocations at)
    {
        if (levels.Count == 0)
            throw ManifestErrors.At(at.Of("sae.temporal.levels"), "`sae.temporal.levels` is empty; expected at least one level.",
                "A single level `[{fraction: 1.0, scales: [1], weight: 0.01}]` is plain temporal consistency.");
        double sum = levels.Sum(l => l.Fraction);
        if (Math.Abs(sum - 1) > FractionTolerance)
            throw ManifestErrors.At(at.Of("sae.temporal.levels"),
                $"the fractions of `sae.temporal.levels` sum to {Number(Math.Round(sum, 12))} ({string.Join(" + ", levels.Select(l => Number(l.Fraction)))}).",
                "Expected them to sum to 1: every latent belongs to exactly one level.");
        var ends = Ends(levels, dSae);
        for (int i = 0; i < levels.Count; i++)
        {
            string path = $"sae.temporal.levels[{i}]";
            if (levels[i].Fraction <= 0)
                throw ManifestErrors.At(at.Of($"{path}.fraction"), $"`{path}.fraction` is 0; expected a level with some latents.",
                    "Remove the level instead.");
            if (ends[i] <= (i == 0 ? 0 : ends[i - 1]))
                throw ManifestErrors.At(at.Of($"{path}.fraction"),
                    $"`{path}.fraction` = {Number(levels[i].Fraction)} gives no latent of `sae.d_sae` = {dSae}.",
                    "Raise it or merge the level into a neighbour.");
            var scales = levels[i].Scales;
            for (int j = 0; j < scales.Count; j++)
            {
                if (scales[j] < 1 || scales[j] >= contextSize)
                    throw ManifestErrors.At(at.Of($"{path}.scales[{j}]"), $"`{path}.scales[{j}]` = {scales[j]} is not a usable step size.",
                        $"Expected a step s from 1 to {contextSize - 1} (data.context_size - 1): positions t and t-s must share a window.");
                if (scales.Take(j).Contains(scales[j]))
                    throw ManifestErrors.At(at.Of($"{path}.scales[{j}]"), $"`{path}.scales` lists {scales[j]} twice.");
            }
        }
    }

    /// <summary>
    /// Splits d_sae latents by the levels' fractions (checked by <see cref="Check"/>). Level l ends at
    /// round(d_sae * cumulative fraction); the last level ends at d_sae.
    /// </summary>
    public static IReadOnlyList<ResolvedLevel> Resolve(IReadOnlyList<ConsistencyLevel> levels, int dSae)
    {
        var ends = Ends(levels, dSae);
        var resolved = new List<ResolvedLevel>();
        for (int l = 0; l < levels.Count; l++)
        {
            int start = l == 0 ? 0 : ends[l - 1];
            if (ends[l] <= start)
                throw new InvalidOperationException($"sae.temporal.levels[{l}] holds no latent of d_sae = {dSae}; the manifest check lets no such level through");
            resolved.Add(new ResolvedLevel(start, ends[l], levels[l].Scales, levels[l].Weight));
        }
        return resolved;
    }

    static int[] Ends(IReadOnlyList<ConsistencyLevel> levels, int dSae)
    {
        var ends = new int[levels.Count];
        double cumulative = 0;
        for (int l = 0; l < levels.Count; l++)
        {
            cumulative += levels[l].Fraction;
            ends[l] = l == levels.Count - 1 ? dSae : (int)Math.Round(dSae * cumulative);
        }
        return ends;
    }

    static string Number(double value) => ManifestScalars.FormatNumber(value);
}
