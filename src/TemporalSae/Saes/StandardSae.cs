// The standard ReLU SAE as SAELens and dictionary_learning train it:
// f = ReLU(W_enc^T (x - b_dec) + b_enc), x_hat = W_dec^T f + b_dec,
// loss = ||x - x_hat||^2 (summed over d_in, mean over tokens) + lambda * sum_i f_i ||W_dec,i||.
// The decoder-norm weighting makes the penalty invariant to rescaling a latent's encoder and decoder.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public sealed class StandardArchitecture : SaeArchitecture
{
    public override string Key => StandardSae.RegistryKey;
    public override string Description => "ReLU SAE with the decoder-norm-weighted L1 penalty (SAELens' standard SAE).";
    public override IReadOnlyList<string> Keys => ["training.l1_coefficient", "training.l1_warmup_steps"];

    public override IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae) => [Sparsity(training)];

    /// <summary>
    /// [N, d_sae] tensors alive at the peak: the features and, in the backward pass, their gradient and the ReLU's
    /// input gradient (3.1 measured in SaeMemoryEstimateTests, rounded up); [N, d_in]: x, x - b_dec, x_hat and the
    /// residual's gradient.
    /// </summary>
    public const double LatentTensors = 3.5, InputTensors = 4;

    public override long EstimatePeakBytes(SaeStepShapes shapes, SaeConfig sae) =>
        StepBytes(DictionaryParameters(shapes), shapes, LatentTensors, InputTensors);

    public override SparseAutoencoder Create(SaeConfig sae, int dIn, long seed) => new StandardSae(dIn, sae.DSae, seed);

    public override SaeLensActivation SaeLens(SaeConfig sae) => new("standard", "relu", new JsonObject());

    public override SaeConfig? FromSaeLens(string architecture, string activationFn, JsonObject cfg, string cfgPath) =>
        (architecture, activationFn) == ("standard", "relu")
            ? new SaeConfig { Architecture = Key, DSae = SaeLensFormat.DSaeOf(cfg, cfgPath) }
            : null;
}

public sealed class StandardSae : SparseAutoencoder
{
    public const string RegistryKey = "standard";

    readonly Parameter wEnc, wDec, bEnc, bDec;

    internal StandardSae(int dIn, int dSae, long seed) : base(RegistryKey, dIn, dSae)
    {
        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed);
    }

    public override string Architecture => RegistryKey;

    // In place: the pre-activation is a fresh tensor that nothing else reads, and ReLU's backward needs only its output.
    public override Tensor Encode(ActivationBatch batch) => PreActivation(batch.X).relu_();

    public override Tensor Decode(Tensor features) => features.matmul(wDec).add_(bDec);

    public override SaeForward Forward(SaeStep step)
    {
        using var scope = torch.NewDisposeScope();
        var batch = step.Batch;
        Tensor f = Encode(batch);                                       // [.., d_sae]
        Tensor xHat = Decode(f);                                        // [.., d_in]
        Tensor mse = TokenMean((xHat - batch.X).square().sum(-1), batch);
        Tensor sparsity = TokenMean(f.matmul(wDec.norm(1)), batch);    // sum_i f_i ||W_dec,i|| per token
        Tensor loss = mse + step.Coefficients["sparsity"] * sparsity;
        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["sparsity"] = sparsity.detach().MoveToOuterDisposeScope(),
        };
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.MoveToOuterDisposeScope(), xHat.MoveToOuterDisposeScope());
    }

    Tensor PreActivation(Tensor x) => PreActivation(x, wEnc, bEnc, bDec);    // [.., d_sae]
}
