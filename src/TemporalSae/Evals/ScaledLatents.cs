// SAE latents as evaluations that compare latents with each other read them: f_i ||W_dec,i||, the norm of what latent
// i adds to the reconstruction. A ReLU SAE's decoder rows have no fixed norm, so f alone depends on how a latent's
// scale happens to split between its activation and its decoder row: scaling encoder column i by c and decoder row i
// by 1/c leaves the SAE's function unchanged but multiplies f_i by c, and a ranking by raw f (probing's class-mean
// difference, unlearning's selection) or a sum over latents (smoothness' variation, stability's cosine) with it.
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals;

public sealed class ScaledLatents : IDisposable
{
    readonly SparseAutoencoder sae;

    public ScaledLatents(SparseAutoencoder sae)
    {
        this.sae = sae;
        using var noGrad = no_grad();
        Tensor wDec = sae.named_parameters().Single(p => p.name == "W_dec").parameter;   // [d_sae, d_in]
        DecoderNorms = wDec.detach().norm(1, keepdim: false, p: 2);                       // [d_sae]
    }

    /// <summary>||W_dec,i|| per latent [d_sae].</summary>
    public Tensor DecoderNorms { get; }

    /// <summary>f_i ||W_dec,i|| with the batch's leading dimensions: [N, d_sae] or [B, T, d_sae].</summary>
    public Tensor Encode(ActivationBatch batch)
    {
        using Tensor f = sae.Encode(batch);
        return f * DecoderNorms;
    }

    public void Dispose() => DecoderNorms.Dispose();
}
