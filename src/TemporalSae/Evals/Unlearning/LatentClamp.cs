// The unlearning intervention (SAEBench's unlearning): chosen latents that fire are set to -m, and the SAE's error term
// is kept, x' = (x - x_hat) + decode(f') = x + decode(f') - decode(f). Written as that difference, nothing changes
// at all when no chosen latent fires. Special positions keep their activation, as in the core splice.
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Unlearning;

public static class LatentClamp
{
    /// <summary>
    /// Latents ranked for clamping: those whose retain-side firing rate is below <paramref name="retainThreshold"/>,
    /// by forget-side firing rate, highest first (ties: lower index), the first <paramref name="count"/>.
    /// </summary>
    public static int[] Select(IReadOnlyList<double> forgetSparsity, IReadOnlyList<double> retainSparsity, double retainThreshold, int count) =>
        Enumerable.Range(0, forgetSparsity.Count).Where(i => retainSparsity[i] < retainThreshold)
            .OrderByDescending(i => forgetSparsity[i]).ThenBy(i => i).Take(count).ToArray();

    /// <summary>x' for a sequence batch; <paramref name="chosen"/> is a bool mask [d_sae].</summary>
    public static Tensor Apply(SparseAutoencoder sae, ActivationBatch batch, Tensor chosen, double multiplier)
    {
        using var scope = NewDisposeScope();
        Tensor x = batch.X;                                                                  // [B, T, d]
        Tensor f = sae.Encode(batch);                                                        // [B, T, d_sae]
        Tensor clamped = where(chosen.logical_and(f.gt(0)), full_like(f, -multiplier), f);
        Tensor edited = x + (sae.Decode(clamped) - sae.Decode(f));
        if (batch.Special is not null) edited = where(batch.Special.unsqueeze(-1), x, edited);
        return edited.MoveToOuterDisposeScope();
    }
}
