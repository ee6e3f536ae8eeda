// TopK and BatchTopK SAEs (Gao et al., 2024; Bussmann et al., 2024), as dictionary_learning and SAELens train them:
// no sparsity penalty; the k largest pre-activations per token (topk) or the k * N largest over a batch of N tokens
// (batchtopk) are kept. Both add the aux-k loss: the dead latents' top pre-activations must reconstruct the
// residual error, which pulls dead latents back into use. Decoder rows are kept at unit norm after every step.
// BatchTopK keeps a running threshold so that inference is per token (f = ReLU(pre) where pre > threshold).
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public class TopKSae : SparseAutoencoder
{
    public const string RegistryKey = "topk";

    protected readonly Parameter wEnc, wDec, bEnc, bDec;
    Tensor? deadLatents;

    protected TopKSae(string name, int dIn, int dSae, int k, long seed) : base(name, dIn, dSae)
    {
        if (k < 1 || k > dSae) throw new Infrastructure.InvalidInputException($"sae.k = {k} must be between 1 and d_sae = {dSae}");
        K = k;
        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed, rowNorm: 1.0); // unit rows, kept so after each step
    }

    public static TopKSae Create(SaeConfig config, int dIn, long seed) => new(RegistryKey, dIn, config.DSae, config.K, seed);

    public override string Architecture => RegistryKey;

    public int K { get; }

    public override Tensor Encode(ActivationBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        return Select(nn.functional.relu(PreActivation(batch.X)), training: false).MoveToOuterDisposeScope();
    }

    public override Tensor Decode(Tensor features) => features.matmul(wDec).add_(bDec);

    public override SaeForward Forward(ActivationBatch batch, StepCoefficients coefficients)
    {
        using var scope = torch.NewDisposeScope();
        Tensor pre = PreActivation(batch.X);                                     // [.., d_sae]
        Tensor f = Select(nn.functional.relu(pre), training: true);
        Tensor xHat = Decode(f);
        Tensor mse = TokenMean((xHat - batch.X).square().sum(-1), batch);
        Tensor aux = AuxK(pre, batch, xHat);
        Tensor loss = mse + coefficients.AuxK * aux;
        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["aux_k"] = aux.detach().MoveToOuterDisposeScope(),
        };
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.MoveToOuterDisposeScope(), xHat.MoveToOuterDisposeScope());
    }

    public override void ObserveDeadLatents(Tensor dead)
    {
        deadLatents?.Dispose();
        deadLatents = dead.detach().clone();
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
    Tensor AuxK(Tensor pre, ActivationBatch batch, Tensor xHat)
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

public sealed class BatchTopKSae : TopKSae
{
    public new const string RegistryKey = "batchtopk";

    // dictionary_learning's running-threshold decay: slow enough to average over many batches.
    const double ThresholdDecay = 0.999;

    readonly Tensor threshold;

    BatchTopKSae(int dIn, int dSae, int k, long seed) : base(RegistryKey, dIn, dSae, k, seed)
    {
        threshold = torch.tensor(-1.0);     // < 0: not yet estimated
        register_buffer("threshold", threshold);
    }

    public static new BatchTopKSae Create(SaeConfig config, int dIn, long seed) => new(dIn, config.DSae, config.K, seed);

    public override string Architecture => RegistryKey;

    /// <summary>The inference threshold: the running mean of the smallest activation BatchTopK kept per batch.</summary>
    public double Threshold => threshold.item<double>();

    protected override Tensor Select(Tensor activations, bool training)
    {
        if (!training)
        {
            double theta = Threshold;
            if (theta < 0) return base.Select(activations, training: false);
            return activations * (activations > theta).to_type(activations.dtype);
        }
        long dSae = activations.shape[^1];
        Tensor flat = activations.reshape(-1);                                      // [N * d_sae]
        long tokens = flat.shape[0] / dSae;
        var (values, indices) = flat.topk((int)Math.Min(flat.shape[0], K * tokens));
        Tensor selected = torch.zeros_like(flat).scatter_(0, indices, values).reshape(activations.shape);
        using (torch.no_grad())
        {
            using var positive = values.masked_select(values > 0);
            if (positive.numel() > 0)
            {
                double smallest = positive.min().item<float>();
                double theta = Threshold;
                threshold.fill_(theta < 0 ? smallest : ThresholdDecay * theta + (1 - ThresholdDecay) * smallest);
            }
        }
        return selected;
    }

    public override void FoldInputScale(double scale)
    {
        base.FoldInputScale(scale);
        // Pre-activations scale with W_enc: the threshold moves with them.
        using var noGrad = torch.no_grad();
        if (Threshold > 0) threshold.mul_(scale);
    }
}
