// The TopK SAE (Gao et al., 2024), as dictionary_learning and SAELens train it: no sparsity penalty; the k largest
// pre-activations per token are kept. The aux-k loss (AuxKLoss.cs) makes the dead latents' top pre-activations
// reconstruct the residual error, which pulls dead latents back into use. Decoder rows are kept at unit norm after
// every step.
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public class TopKArchitecture : SaeArchitecture
{
    public override string Key => TopKSae.RegistryKey;
    public override string Description => "TopK SAE: the k largest pre-activations per token, aux-k loss on dead latents, unit-norm decoder rows.";
    public override IReadOnlyList<string> Keys => ["sae.k", AuxKLoss.CoefficientKey];

    public override void Validate(ExperimentConfig config, ManifestLocations at) => CheckK(config.Sae, at, $"{Key} keeps k latents");

    public override IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae) =>
        [AuxKLoss.Coefficient(training)];

    /// <summary>2: aux-k on the dead latents' pre-activations (not their ReLU), normalised by the residual's variance and scaled by the dead count.</summary>
    public override int CacheVersion => 2;

    /// <summary>
    /// [N, d_sae] tensors alive at the peak: pre-activations, their ReLU, the top-k features, the aux-k features of the
    /// dead latents and, in the backward pass, the gradients of those (4.1 measured in SaeMemoryEstimateTests, 5.1 with
    /// half the latents dead, rounded up); [N, d_in]: x, x - b_dec, x_hat, the residual, its reconstruction and a gradient.
    /// </summary>
    public virtual double LatentTensors => 5;
    public const double InputTensors = 6;

    public override long EstimatePeakBytes(SaeStepShapes shapes, SaeConfig sae) =>
        StepBytes(DictionaryParameters(shapes), shapes, LatentTensors, InputTensors);

    public override SparseAutoencoder Create(SaeConfig sae, int dIn, long seed) => new TopKSae(Key, dIn, sae.DSae, sae.K, seed);

    public override SaeLensActivation SaeLens(SaeConfig sae) => new(Key, "topk", new JsonObject { ["k"] = sae.K });

    public override SaeConfig? FromSaeLens(string architecture, string activationFn, JsonObject cfg, string cfgPath) =>
        architecture == "topk" || activationFn == "topk"
            ? new SaeConfig
            {
                Architecture = Key,
                DSae = SaeLensFormat.DSaeOf(cfg, cfgPath),
                K = cfg["activation_fn_kwargs"]?["k"]?.GetValue<int>()
                    ?? throw new InvalidInputException($"{cfgPath}: a TopK SAE needs activation_fn_kwargs.k"),
            }
            : null;
}

public class TopKSae : SparseAutoencoder
{
    public const string RegistryKey = "topk";

    protected readonly Parameter wEnc, wDec, bEnc, bDec;

    internal TopKSae(string name, int dIn, int dSae, int k, long seed) : base(name, dIn, dSae)
    {
        K = k;
        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed, rowNorm: 1.0); // unit rows, kept so after each step
    }

    public override string Architecture => RegistryKey;

    public int K { get; }

    public override Tensor Encode(ActivationBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        return Select(nn.functional.relu(PreActivation(batch.X)), training: false).MoveToOuterDisposeScope();
    }

    public override Tensor Decode(Tensor features) => features.matmul(wDec).add_(bDec);

    public override SaeForward Forward(SaeStep step)
    {
        using var scope = torch.NewDisposeScope();
        var batch = step.Batch;
        Tensor pre = PreActivation(batch.X);                                     // [.., d_sae]
        Tensor f = Select(nn.functional.relu(pre), training: true);
        Tensor xHat = Decode(f);
        Tensor mse = TokenMean((xHat - batch.X).square().sum(-1), batch);
        Tensor aux = AuxKLoss.Compute(pre, batch.X - xHat, wDec, step.DeadLatents, batch.Special?.logical_not());
        Tensor loss = mse + step.Coefficients[AuxKLoss.Term] * aux;
        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            [AuxKLoss.Term] = aux.detach().MoveToOuterDisposeScope(),
        };
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.MoveToOuterDisposeScope(), xHat.MoveToOuterDisposeScope());
    }

    public override void AfterStep()
    {
        using var noGrad = torch.no_grad();
        wDec.div_(wDec.norm(1, keepdim: true).clamp_min(1e-8));
    }

    /// <summary>Keeps the k largest activations of each token.</summary>
    protected virtual Tensor Select(Tensor activations, bool training)
    {
        var (values, indices) = activations.topk(K, dim: -1);
        return torch.zeros_like(activations).scatter_(-1, indices, values);
    }

    Tensor PreActivation(Tensor x) => PreActivation(x, wEnc, bEnc, bDec);    // [.., d_sae]
}

