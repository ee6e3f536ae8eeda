// The published temporal baseline T-SAE (Bhalla et al., 2025, "Temporal Sparse Autoencoders: Leveraging the
// Sequential Nature of Language for Interpretability", ICLR 2026), as docs/science.md describes it: latents split into a
// high-level prefix and the rest, Matryoshka-style reconstruction (the prefix alone and all latents together must
// reconstruct x), sparsity, and a symmetric InfoNCE loss between the high-level codes of tokens t and t-1 of the same
// sequence with the other batch items as negatives. Encoder, decoder and parameter names as SAELens' standard SAE.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

public sealed class ContrastiveTemporalArchitecture : SaeArchitecture
{
    public override string Key => ContrastiveTemporalSae.RegistryKey;
    public override string Description =>
        "T-SAE (Bhalla et al., 2025): a high-level prefix that reconstructs alone, and a contrastive loss between consecutive tokens' high-level codes.";
    public override bool TrainsOnSequences => true;

    public override IReadOnlyList<string> Keys =>
    [
        "sae.k", "sae.temporal.activation", "sae.temporal.boundary", "sae.temporal.high_level_fraction",
        "sae.temporal.contrastive_coefficient", "sae.temporal.contrastive_temperature",
        "training.l1_coefficient", "training.l1_warmup_steps", AuxKLoss.CoefficientKey,
    ];

    public override IEnumerable<(string Key, string Reason)> Unused(SaeConfig sae) => TemporalActivation.UnusedKeys(sae);

    public override void Validate(ExperimentConfig config, ManifestLocations at)
    {
        var sae = config.Sae;
        if (sae.Temporal.Activation == "topk") CheckK(sae, at, "activation: topk keeps k latents");
        int high = ContrastiveTemporalSae.HighLevelCount(sae.DSae, sae.Temporal.HighLevelFraction);
        if (high < 1)
            throw ManifestErrors.At(at.Of("sae.temporal.high_level_fraction"),
                $"`sae.temporal.high_level_fraction` = {sae.Temporal.HighLevelFraction} gives {high} of `sae.d_sae` = {sae.DSae} latents.",
                "Expected a fraction that gives the high-level prefix at least one latent.");
    }

    public override IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae) =>
    [
        Sparsity(training),
        new("contrastive", "sae.temporal.contrastive_coefficient", sae.Temporal.ContrastiveCoefficient),
        .. TemporalActivation.AuxK(training, sae),
    ];

    /// <summary>2: aux-k on dead latents with the TopK activation.</summary>
    public override int CacheVersion => 2;

    /// <summary>
    /// [B, T, d_sae] tensors alive at the peak: the features, the high-level prefix's and all latents' reconstruction
    /// paths and their gradients (4.5 measured in SaeMemoryEstimateTests with TopK, 5.4 with TopK's aux-k and half the
    /// latents dead; rounded up); [B, T, d_in]: x, both reconstructions and their residual gradients.
    /// </summary>
    public const double LatentTensors = 5.5, InputTensors = 8;

    public override long EstimatePeakBytes(SaeStepShapes shapes, SaeConfig sae) =>
        StepBytes(DictionaryParameters(shapes), shapes, LatentTensors, InputTensors);

    public override SparseAutoencoder Create(SaeConfig sae, int dIn, long seed) => ContrastiveTemporalSae.Create(sae, dIn, seed);

    public override SaeLensActivation SaeLens(SaeConfig sae) => TemporalActivation.SaeLens(sae);
}

/// <summary>
/// f = act(W_enc^T (x - b_dec) + b_enc) per token (no temporal buffer), x_hat = W_dec^T f + b_dec.
/// <para>Loss = mse_high + mse + coefficients["sparsity"] * sparsity + coefficients["contrastive"] * contrastive
/// (+ coefficients["aux_k"] * aux_k with the TopK activation, AuxKLoss.cs), where mse_high reconstructs from the first <see cref="HighLevelLatents"/> latents only, mse from all,
/// sparsity = mean of sum_i f_i ||W_dec,i||, all means over non-special tokens.</para>
/// <para>contrastive: for every position t &gt;= 1 the codes u = normalise(f[.., :H]) give logits
/// L[b, b'] = cos(u_{b,t}, u_{b',t-1}) / temperature over the batch; the loss is the mean over valid pairs (t-1 in t's
/// segment per the boundary mode, neither token special) of (CE(row b of L, b) + CE(column b of L, b)) / 2. All
/// positions are used rather than one sampled pair per sequence: the same expectation with less variance. A zero code
/// normalises to zero (cosine 0 with everything).</para>
/// </summary>
public sealed class ContrastiveTemporalSae : SparseAutoencoder
{
    public const string RegistryKey = "tsae-contrastive";

    readonly Parameter wEnc, wDec, bEnc, bDec;
    readonly TemporalActivation activation;

    /// <summary>Builds the SAE from the manifest's sae section (checked by the architecture) for activations of width dIn.</summary>
    public static ContrastiveTemporalSae Create(SaeConfig config, int dIn, long seed) => new(dIn, config.DSae, config.Temporal, config.K, seed);

    ContrastiveTemporalSae(int dIn, int dSae, TemporalConfig config, int k, long seed) : base(RegistryKey, dIn, dSae)
    {
        if (dIn < 1) throw new InvalidInputException($"tsae-contrastive: d_in = {dIn} must be at least 1.");
        HighLevelLatents = HighLevelCount(dSae, config.HighLevelFraction);
        if (HighLevelLatents < 1)
            throw new InvalidInputException(
                $"sae.temporal.high_level_fraction = {config.HighLevelFraction} gives {HighLevelLatents} of {dSae} latents; it must give at least 1.");
        Boundary = TemporalSegments.ParseBoundary(config.Boundary);
        Temperature = config.ContrastiveTemperature;
        activation = TemporalActivation.Of(config.Activation, k);

        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed);
    }

    /// <summary>H = round(d_sae * high_level_fraction), at most d_sae.</summary>
    public static int HighLevelCount(int dSae, double fraction) => Math.Min(dSae, (int)Math.Round(dSae * fraction));

    public override string Architecture => RegistryKey;

    /// <summary>H, the size of the high-level prefix: round(d_sae * high_level_fraction).</summary>
    public int HighLevelLatents { get; }

    /// <summary>The high-level prefix and the low-level rest (the rest is empty when the prefix is every latent).</summary>
    public override IReadOnlyList<LatentLevel> LatentLevels => HighLevelLatents == DSae
        ? [new LatentLevel("high", 0, DSae)]
        : [new LatentLevel("high", 0, HighLevelLatents), new LatentLevel("low", HighLevelLatents, DSae)];
    public BoundaryMode Boundary { get; }
    public double Temperature { get; }

#pragma warning disable IDE1006 // SAELens' tensor names, as in the exported safetensors
    public Parameter W_enc => wEnc;
    public Parameter W_dec => wDec;
    public Parameter b_enc => bEnc;
    public Parameter b_dec => bDec;
#pragma warning restore IDE1006

    /// <summary>Features with the batch's leading dimensions ([N, d_sae] or [B, T, d_sae]); each token on its own.</summary>
    public override Tensor Encode(ActivationBatch batch)
    {
        CheckWidth(batch.X);
        using var scope = torch.NewDisposeScope();
        var z = PreActivation(batch.X, wEnc, bEnc, bDec);
        return activation.Apply(z).MoveToOuterDisposeScope();
    }

    public override Tensor Decode(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        return features.matmul(wDec).add_(bDec).MoveToOuterDisposeScope();   // [.., d_in]
    }

    public override SaeForward Forward(SaeStep step)
    {
        using var scope = torch.NewDisposeScope();
        var batch = step.Batch;
        var segments = TemporalSegments.Of(batch, Boundary);
        var x = batch.X;
        CheckWidth(x);
        var z = PreActivation(x, wEnc, bEnc, bDec);                                  // [B, T, d_sae]
        bool auxK = activation.Kind == "topk";
        var f = activation.Apply(z);                    // [B, T, d_sae]; ReLU consumes z, TopK leaves it for aux-k
        var high = f.narrow(-1, 0, HighLevelLatents);                                // [B, T, H]
        var xHatHigh = high.matmul(wDec.narrow(0, 0, HighLevelLatents)).add_(bDec);  // [B, T, d_in]
        var xHat = Decode(f);
        var norms = wDec.norm(1);                                                    // [d_sae]

        var keep = segments.KeepMask(out long kept);
        if (kept == 0)
            throw new InvalidInputException("tsae-contrastive: every token of the batch is special; there is nothing to reconstruct.");
        var mseHigh = ((xHatHigh - x).square().sum(-1) * keep).sum() / kept;
        var mse = ((xHat - x).square().sum(-1) * keep).sum() / kept;
        var sparsity = (f.matmul(norms) * keep).sum() / kept;
        var contrastive = InfoNce(high, segments);
        var loss = mseHigh + mse + step.Coefficients["sparsity"] * sparsity + step.Coefficients["contrastive"] * contrastive;
        Tensor? aux = null;
        if (auxK)
        {
            aux = AuxKLoss.Compute(z, x - xHat, wDec, step.DeadLatents, keep);
            loss = loss + step.Coefficients[AuxKLoss.Term] * aux;
        }

        var terms = new Dictionary<string, Tensor>
        {
            ["mse_high"] = mseHigh.detach().MoveToOuterDisposeScope(),
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["sparsity"] = sparsity.detach().MoveToOuterDisposeScope(),
            ["contrastive"] = contrastive.detach().MoveToOuterDisposeScope(),
        };
        if (aux is not null) terms[AuxKLoss.Term] = aux.detach().MoveToOuterDisposeScope();
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.MoveToOuterDisposeScope(), xHat.MoveToOuterDisposeScope());
    }

    void CheckWidth(Tensor x)
    {
        if (x.shape[^1] != DIn)
            throw new InvalidInputException($"tsae-contrastive: activations have width {x.shape[^1]}, but the SAE was built for d_in = {DIn}.");
    }

    /// <summary>Symmetric InfoNCE between codes at t and t-1 across the batch; 0 when no pair is valid.</summary>
    Tensor InfoNce(Tensor high, TemporalSegments segments)
    {
        long b = high.shape[0], t = high.shape[1];
        var valid = segments.PairMask(1, out long count);                            // [B, T-1]
        if (count == 0 || t < 2) return torch.zeros([], high.dtype, high.device);
        var u = torch.nn.functional.normalize(high, p: 2, dim: -1, eps: 1e-8);       // [B, T, H]
        var anchors = u.narrow(1, 1, t - 1).transpose(0, 1);                         // [T-1, B, H]
        var previous = u.narrow(1, 0, t - 1).transpose(0, 1);                        // [T-1, B, H]
        var logits = anchors.bmm(previous.transpose(1, 2)).div_(Temperature);        // [T-1, B, B]
        var targets = torch.arange(b, device: high.device).expand(t - 1, b);         // [T-1, B]
        var rows = torch.nn.functional.cross_entropy(logits.reshape(-1, b), targets.reshape(-1), reduction: nn.Reduction.None);
        var columns = torch.nn.functional.cross_entropy(logits.transpose(1, 2).reshape(-1, b), targets.reshape(-1), reduction: nn.Reduction.None);
        var perPair = (rows + columns).view(t - 1, b).t() * 0.5;                     // [B, T-1]
        return (perPair * valid).sum() / count;
    }
}
