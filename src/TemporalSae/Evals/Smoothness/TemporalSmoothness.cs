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

    /// <summary>f [B, T, d_sae] (non-negative, as every architecture's features are); segments (document or sentence ids) and special [B, T].</summary>
    public void Add(Tensor f, Tensor segments, Tensor special)
    {
        using var scope = NewDisposeScope();
        long t = f.shape[1];
        Tensor keepToken = special.logical_not();                                              // [B, T]
        Tensor keepPair = keepToken.narrow(1, 1, t - 1)
            .logical_and(keepToken.narrow(1, 0, t - 1))
            .logical_and(segments.narrow(1, 1, t - 1).eq(segments.narrow(1, 0, t - 1)));     // [B, T-1]
        // The kept pairs and tokens as rows, so every measure below is one pass over exactly the rows that count.
        // Counts use count_nonzero and minimum rather than boolean masks: on LibTorch's CPU kernels boolean reductions
        // and float64 sums are an order of magnitude slower than float32 passes (measured).
        Tensor now = f.narrow(1, 1, t - 1)[keepPair], before = f.narrow(1, 0, t - 1)[keepPair];   // [P, d_sae]
        Tensor tokensKept = f[keepToken];                                                            // [N, d_sae]
        Tensor seen = f.masked_fill(special.unsqueeze(-1), 0).amax(1);                               // [B, d_sae]
        pairs += now.shape[0];
        tokens += tokensKept.shape[0];
        sequences += f.shape[0];

        for (int l = 0; l < levels.Count; l++)
        {
            long start = levels[l].Start, count = levels[l].Count;
            Tensor nowLevel = now.narrow(1, start, count), beforeLevel = before.narrow(1, start, count);
            variation[l] += (nowLevel - beforeLevel).abs_().sum().item<float>();
            wasActive[l] += beforeLevel.count_nonzero().item<long>();
            stayed[l] += minimum(nowLevel, beforeLevel).count_nonzero().item<long>();
            l1[l] += tokensKept.narrow(1, start, count).sum().item<float>();
            l0[l] += tokensKept.narrow(1, start, count).count_nonzero().item<long>();
            distinct[l] += seen.narrow(1, start, count).count_nonzero().item<long>();
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
