// Temporal smoothness of SAE features (the measures T-SAE, Bhalla et al. 2025, reports), per latent level, pooled over
// held-out windows. A pair (t-1, t) counts when both tokens are not special and lie in the same segment (sentence or
// document), so a feature that changes at a boundary is not penalised for it.
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Smoothness;

/// <param name="TotalVariation">Mean over pairs of sum_i |f_t,i - f_t-1,i| over the level's latents.</param>
/// <param name="RelativeTotalVariation">TotalVariation / mean per-token L1 of the level: scale-free, 0 for constant features, 2 for disjoint ones.</param>
/// <param name="Persistence">P(f_t,i > 0 | f_t-1,i > 0) over pairs and latents.</param>
/// <param name="DistinctPerSequence">Mean over windows of the number of the level's latents active anywhere in the window.</param>
/// <param name="L0">Mean active latents of the level per non-special token.</param>
/// Each is null when nothing was there to measure (no pairs, no active latent), never NaN.
public sealed record LevelSmoothness(string Level, int Latents, double? TotalVariation, double? RelativeTotalVariation,
    double? Persistence, double? DistinctPerSequence, double? L0);

public sealed class TemporalSmoothness(IReadOnlyList<LatentLevel> levels)
{
    readonly double[] variation = new double[levels.Count], l1 = new double[levels.Count], l0 = new double[levels.Count];
    readonly double[] stayed = new double[levels.Count], wasActive = new double[levels.Count], distinct = new double[levels.Count];
    long pairs, tokens, sequences;

    /// <summary>f [B, T, d_sae]; segments (document or sentence ids) and special [B, T].</summary>
    public void Add(Tensor f, Tensor segments, Tensor special)
    {
        using var scope = NewDisposeScope();
        long t = f.shape[1];
        Tensor keepToken = special.logical_not();                                              // [B, T]
        Tensor keepPair = keepToken.narrow(1, 1, t - 1)
            .logical_and(keepToken.narrow(1, 0, t - 1))
            .logical_and(segments.narrow(1, 1, t - 1).eq(segments.narrow(1, 0, t - 1)));     // [B, T-1]
        Tensor pairWeight = keepPair.unsqueeze(-1).to_type(ScalarType.Float64);                // [B, T-1, 1]
        Tensor tokenWeight = keepToken.unsqueeze(-1).to_type(ScalarType.Float64);              // [B, T, 1]
        pairs += keepPair.sum().item<long>();
        tokens += keepToken.sum().item<long>();
        sequences += f.shape[0];

        for (int l = 0; l < levels.Count; l++)
        {
            Tensor level = f.narrow(-1, levels[l].Start, levels[l].Count).to_type(ScalarType.Float64);  // [B, T, n]
            Tensor now = level.narrow(1, 1, t - 1), before = level.narrow(1, 0, t - 1);              // [B, T-1, n]
            variation[l] += ((now - before).abs() * pairWeight).sum().item<double>();
            Tensor activeBefore = before.gt(0).to_type(ScalarType.Float64) * pairWeight;
            wasActive[l] += activeBefore.sum().item<double>();
            stayed[l] += (activeBefore * now.gt(0).to_type(ScalarType.Float64)).sum().item<double>();
            Tensor active = level.gt(0).to_type(ScalarType.Float64) * tokenWeight;                   // [B, T, n]
            l1[l] += (level.abs() * tokenWeight).sum().item<double>();
            l0[l] += active.sum().item<double>();
            distinct[l] += active.amax(1).sum().item<double>();
        }
    }

    public IReadOnlyList<LevelSmoothness> Result() => levels.Select((level, l) =>
    {
        double? tv = Ratio(variation[l], pairs);
        return new LevelSmoothness(level.Name, level.Count, tv, tv is null ? null : Ratio(variation[l] * tokens, l1[l] * pairs),
            Ratio(stayed[l], wasActive[l]), Ratio(distinct[l], sequences), Ratio(l0[l], tokens));
    }).ToArray();

    static double? Ratio(double numerator, double denominator) => denominator > 0 ? numerator / denominator : null;
}
