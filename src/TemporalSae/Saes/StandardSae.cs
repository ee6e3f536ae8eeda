// The standard ReLU SAE as SAELens and dictionary_learning train it:
// f = ReLU(W_enc^T (x - b_dec) + b_enc), x_hat = W_dec^T f + b_dec,
// loss = ||x - x_hat||^2 (summed over d_in, mean over tokens) + lambda * sum_i f_i ||W_dec,i||.
// The decoder-norm weighting makes the penalty invariant to rescaling a latent's encoder and decoder.
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public sealed class StandardSae : SparseAutoencoder
{
    public const string RegistryKey = "standard";

    readonly Parameter wEnc, wDec, bEnc, bDec;

    StandardSae(int dIn, int dSae, long seed) : base(RegistryKey, dIn, dSae)
    {
        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed);
    }

    public static StandardSae Create(SaeConfig config, int dIn, long seed) => new(dIn, config.DSae, seed);

    public override string Architecture => RegistryKey;

    // In place: the pre-activation is a fresh tensor that nothing else reads, and ReLU's backward needs only its output.
    public override Tensor Encode(ActivationBatch batch) => PreActivation(batch.X).relu_();

    public override Tensor Decode(Tensor features) => features.matmul(wDec).add_(bDec);

    public override SaeForward Forward(ActivationBatch batch, StepCoefficients coefficients)
    {
        using var scope = torch.NewDisposeScope();
        Tensor f = Encode(batch);                                       // [.., d_sae]
        Tensor xHat = Decode(f);                                        // [.., d_in]
        Tensor mse = TokenMean((xHat - batch.X).square().sum(-1), batch);
        Tensor sparsity = TokenMean(f.matmul(wDec.norm(1)), batch);    // sum_i f_i ||W_dec,i|| per token
        Tensor loss = mse + coefficients.Sparsity * sparsity;
        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["sparsity"] = sparsity.detach().MoveToOuterDisposeScope(),
        };
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.MoveToOuterDisposeScope(), xHat.MoveToOuterDisposeScope());
    }

    Tensor PreActivation(Tensor x) => PreActivation(x, wEnc, bEnc, bDec);    // [.., d_sae]
}
