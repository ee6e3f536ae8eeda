// The aux-k loss of TopK SAEs (Gao et al., 2024, "Scaling and evaluating sparse autoencoders", appendix B.1), shared by
// every architecture here that keeps the top k latents. It follows SAELens' TopKTrainingSAE.calculate_topk_aux_loss
// (sae_lens/saes/topk_sae.py): the dead latents' top k_aux = d_in / 2 *pre*-activations, negative ones included (a
// dead latent's pre-activations are usually all negative, and after a ReLU it would never get a gradient), reconstruct
// the detached residual x - x_hat, scaled by min(dead / k_aux, 1) so that a few dead latents weigh less than many. As
// in EleutherAI's sae (which SAELens follows without this step) and the paper, the error is normalised by the
// residual's variance, so the term stays of order 1 while the residual shrinks during training.
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public static class AuxKLoss
{
    /// <summary>The loss term's name in the step coefficients and the training log.</summary>
    public const string Term = "aux_k";

    /// <summary>The manifest key of its coefficient.</summary>
    public const string CoefficientKey = "training.aux_k_coefficient";

    // A batch whose residuals are all equal has no variance to normalise by; this keeps the ratio finite.
    const double MinVariance = 1e-12;

    /// <summary>k_aux = d_in / 2 (the paper's heuristic, as SAELens), at least 1.</summary>
    public static int KAux(long dIn) => (int)Math.Max(1, dIn / 2);

    public static LossCoefficient Coefficient(Manifests.TrainingConfig training) => new(Term, CoefficientKey, training.AuxKCoefficient);

    /// <summary>The indices [n_dead] (int64) of the dead latents, or null when none is dead (or there is no mask).</summary>
    public static Tensor? DeadIndices(Tensor? deadLatents)
    {
        if (deadLatents is null || !deadLatents.any().item<bool>()) return null;
        return deadLatents.nonzero().squeeze(1);
    }

    /// <summary>
    /// min(dead / k_aux, 1) * sum_t ||e_hat_t - e_t||^2 / sum_t ||e_t - mean(e)||^2 over the kept tokens t, where
    /// e = residual (detached) and e_hat = a W_dec with a the top min(k_aux, dead) pre-activations of dead latents per
    /// token (no decoder bias: e_hat reconstructs an error, not an activation). Zero when no latent is dead.
    /// </summary>
    /// <param name="pre">Pre-activations [.., d_sae] with autograd.</param>
    /// <param name="residual">x - x_hat [.., d_in].</param>
    /// <param name="wDec">W_dec [d_sae, d_in].</param>
    /// <param name="deadLatents">bool [d_sae], the trainer's dead-latent mask; null: none is dead.</param>
    /// <param name="keep">[..] (bool or float), tokens that count (non-special); null: all.</param>
    public static Tensor Compute(Tensor pre, Tensor residual, Tensor wDec, Tensor? deadLatents, Tensor? keep = null)
    {
        using var scope = torch.NewDisposeScope();
        if (DeadIndices(deadLatents) is not { } dead) return torch.zeros([], pre.dtype, pre.device).MoveToOuterDisposeScope();
        return OnDead(pre.index_select(-1, dead), residual, wDec.index_select(0, dead), keep).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Compute"/> from the dead latents' columns alone: <paramref name="preDead"/> [.., n_dead] and their
    /// decoder rows <paramref name="wDecDead"/> [n_dead, d_in] (n_dead &gt;= 1). Working on these columns keeps the
    /// loss's temporaries at [N, n_dead] instead of [N, d_sae].
    /// </summary>
    public static Tensor OnDead(Tensor preDead, Tensor residual, Tensor wDecDead, Tensor? keep = null)
    {
        using var scope = torch.NewDisposeScope();
        long dead = preDead.shape[^1], dIn = residual.shape[^1];
        int kAuxFull = KAux(dIn);
        double scale = Math.Min(dead / (double)kAuxFull, 1.0);
        int kAux = (int)Math.Min(kAuxFull, dead);

        var pre = preDead.reshape(-1, dead);                                                     // [N, n_dead]
        var e = residual.detach().reshape(-1, dIn);                                              // [N, d_in]
        var (values, indices) = pre.topk(kAux, dim: -1);                                         // [N, k_aux]
        var eHat = torch.zeros_like(pre).scatter_(-1, indices, values).matmul(wDecDead);         // [N, d_in]

        var weight = keep is null
            ? torch.ones(e.shape[0], 1, dtype: e.dtype, device: e.device)
            : keep.reshape(-1, 1).to_type(e.dtype);                                             // [N, 1]
        var mean = (e * weight).sum([0]) / weight.sum().clamp_min(1);                             // [d_in]
        var variance = ((e - mean).square() * weight).sum();
        var error = ((eHat - e).square() * weight).sum();
        return (error / variance.clamp_min(MinVariance) * scale).MoveToOuterDisposeScope();
    }
}
