// The BatchTopK SAE (Bussmann et al., 2024), as dictionary_learning trains it: a TopK SAE that keeps the k * N largest
// activations over a batch of N tokens instead of k per token, with a running threshold so that inference is per
// token (f = ReLU(pre) where pre > threshold).
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

public sealed class BatchTopKArchitecture : TopKArchitecture
{
    public override string Key => BatchTopKSae.RegistryKey;
    public override string Description => "BatchTopK SAE: the k x N largest activations of a batch of N tokens, a running threshold at inference, aux-k loss.";

    /// <summary>TopK's tensors and the flattened batch's selection (6.2 measured in SaeMemoryEstimateTests, rounded up).</summary>
    public override double LatentTensors => 7;

    public override SparseAutoencoder Create(SaeConfig sae, int dIn, long seed) => new BatchTopKSae(dIn, sae.DSae, sae.K, seed);

    // SAELens has no batchtopk architecture; its threshold is a tensor of the export.
    public override SaeLensActivation SaeLens(SaeConfig sae) => new("custom", "topk", new JsonObject { ["k"] = sae.K });

    public override SaeConfig? FromSaeLens(string architecture, string activationFn, JsonObject cfg, string cfgPath) => null;
}

public sealed class BatchTopKSae : TopKSae
{
    public new const string RegistryKey = "batchtopk";

    // dictionary_learning's running-threshold decay: slow enough to average over many batches.
    const double ThresholdDecay = 0.999;

    readonly Tensor threshold;

    internal BatchTopKSae(int dIn, int dSae, int k, long seed) : base(RegistryKey, dIn, dSae, k, seed)
    {
        threshold = torch.tensor(-1.0f);    // < 0: not yet estimated; float32, as safetensors exports hold it
        register_buffer("threshold", threshold);
    }

    public override string Architecture => RegistryKey;

    /// <summary>The inference threshold: the running mean of the smallest activation BatchTopK kept per batch.</summary>
    public double Threshold => threshold.item<float>();

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

    // Folding an input scale keeps every pre-activation (W_enc^T (s x - b_dec) = s W_enc^T (x - b_dec / s)), so the
    // threshold, learned on pre-activations, stays as it is.
}
