// The TopK SAE (Gao et al., 2024), as dictionary_learning and SAELens train it: no sparsity penalty; the k largest
// pre-activations per token are kept. The aux-k loss makes the dead latents' top pre-activations reconstruct the
// residual error, which pulls dead latents back into use. Decoder rows are kept at unit norm after every step.
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
    public override IReadOnlyList<string> Keys => ["sae.k", "training.aux_k_coefficient"];

    public override void Validate(ExperimentConfig config, ManifestLocations at) => CheckK(config.Sae, at, $"{Key} keeps k latents");

    public override IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae) =>
        [new("aux_k", "training.aux_k_coefficient", training.AuxKCoefficient)];

    /// <summary>
    /// [N, d_sae] tensors alive at the peak: pre-activations, their ReLU, the top-k features, the aux-k features of the
    /// dead latents and, in the backward pass, the gradients of those (4.1 measured in SaeMemoryEstimateTests, rounded
    /// up); [N, d_in]: x, x - b_dec, x_hat, the residual, its reconstruction and a gradient.
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
        Tensor aux = AuxK(pre, batch, xHat, step.DeadLatents);
        Tensor loss = mse + step.Coefficients["aux_k"] * aux;
        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["aux_k"] = aux.detach().MoveToOuterDisposeScope(),
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

    /// <summary>
    /// Reconstruction of the residual error x - x_hat by the top k_aux = d_in / 2 pre-activations of dead latents
    /// (SAELens' aux-k); zero when no latent is dead.
    /// </summary>
    Tensor AuxK(Tensor pre, ActivationBatch batch, Tensor xHat, Tensor? deadLatents)
    {
        if (deadLatents is null) return torch.zeros([], device: pre.device);
        long dead = deadLatents.sum().item<long>();
        if (dead == 0) return torch.zeros([], device: pre.device);
        int kAux = (int)Math.Min(dead, DIn / 2);
        Tensor residual = (batch.X - xHat).detach();
        Tensor deadPre = nn.functional.relu(pre).masked_fill(deadLatents.logical_not(), 0);
        var (values, indices) = deadPre.topk(kAux, dim: -1);
        Tensor auxFeatures = torch.zeros_like(pre).scatter_(-1, indices, values);
        Tensor residualHat = auxFeatures.matmul(wDec);
        return TokenMean((residualHat - residual).square().sum(-1), batch);
    }
}

