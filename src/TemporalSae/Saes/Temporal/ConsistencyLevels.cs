// Hierarchical temporal consistency levels (SCIENCE.md, "The Temporal SAE" 3): contiguous latent ranges, fastest
// first, each with its own scales and weight, resolved from the manifest's sae.temporal.levels.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Saes.Temporal;

/// <summary>One level: latents [Start, End), step sizes compared, and the level's weight in the loss.</summary>
public sealed record ResolvedLevel(int Start, int End, IReadOnlyList<int> Scales, double Weight);

public static class ConsistencyLevels
{
    /// <summary>
    /// Splits d_sae latents by the levels' fractions (which must sum to 1 within 1e-6). Level l ends at
    /// round(d_sae * cumulative fraction); the last level ends at d_sae.
    /// </summary>
    public static IReadOnlyList<ResolvedLevel> Resolve(IReadOnlyList<ConsistencyLevel> levels, int dSae)
    {
        if (levels.Count == 0)
            throw new InvalidInputException("sae.temporal.levels: at least one level is needed (use scales: [] for no consistency loss).");
        double total = levels.Sum(l => l.Fraction);
        if (Math.Abs(total - 1) > 1e-6)
            throw new InvalidInputException(
                $"sae.temporal.levels: fractions sum to {total:G6}, expected 1; adjust the fraction of each level.");
        var resolved = new List<ResolvedLevel>();
        double cumulative = 0;
        int start = 0;
        for (int l = 0; l < levels.Count; l++)
        {
            var level = levels[l];
            if (level.Scales.Any(s => s < 1))
                throw new InvalidInputException(
                    $"sae.temporal.levels[{l}].scales: [{string.Join(", ", level.Scales)}] must hold step sizes >= 1.");
            if (level.Scales.Distinct().Count() != level.Scales.Count)
                throw new InvalidInputException(
                    $"sae.temporal.levels[{l}].scales: [{string.Join(", ", level.Scales)}] repeats a step size.");
            cumulative += level.Fraction;
            int end = l == levels.Count - 1 ? dSae : (int)Math.Round(dSae * cumulative);
            if (end <= start)
                throw new InvalidInputException(
                    $"sae.temporal.levels[{l}]: fraction {level.Fraction} gives no latent of d_sae = {dSae}; raise it or merge levels.");
            resolved.Add(new ResolvedLevel(start, end, level.Scales, level.Weight));
            start = end;
        }
        return resolved;
    }
}
