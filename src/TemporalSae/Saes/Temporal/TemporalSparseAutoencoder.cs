// The Temporal SAE, this project's method (docs/science.md, "The Temporal SAE"): a causal convolution over a buffer of K
// positions in latent space between the encoder and the activation, boundary-aware buffers, and hierarchical
// decoder-norm-weighted temporal consistency. Decoding, parameter names and the reconstruction and sparsity terms
// follow SAELens' standard SAE (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec).
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

public sealed class TemporalArchitecture : SaeArchitecture
{
    public override string Key => TemporalSparseAutoencoder.RegistryKey;
    public override string Description =>
        "Temporal SAE: a causal convolution over K positions in latent space, boundary-aware, with hierarchical temporal consistency.";
    public override bool TrainsOnSequences => true;

    public override IReadOnlyList<string> Keys =>
    [
        "sae.k", "sae.temporal.buffer", "sae.temporal.activation", "sae.temporal.boundary", "sae.temporal.gradient_checkpointing",
        "sae.temporal.levels", "sae.temporal.exclude_special_tokens", "training.l1_coefficient", "training.l1_warmup_steps",
        AuxKLoss.CoefficientKey,
    ];

    public override IEnumerable<(string Key, string Reason)> Unused(SaeConfig sae) => TemporalActivation.UnusedKeys(sae);

    public override void Validate(ExperimentConfig config, ManifestLocations at)
    {
        var temporal = config.Sae.Temporal;
        if (temporal.Activation == "topk") CheckK(config.Sae, at, "activation: topk keeps k latents");
        if (temporal.Buffer > config.Data.ContextSize)
            throw ManifestErrors.At(at.Of("sae.temporal.buffer"),
                $"`sae.temporal.buffer` = {temporal.Buffer} is longer than `data.context_size` = {config.Data.ContextSize}.",
                "Expected a buffer no longer than a context window.");
        ConsistencyLevels.Check(temporal.Levels, config.Sae.DSae, config.Data.ContextSize, at);
    }

    public override IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae) =>
        [Sparsity(training), .. TemporalActivation.AuxK(training, sae)];

    public override long EstimatePeakBytes(SaeStepShapes shapes, SaeConfig sae) => TemporalMemoryEstimate.Estimate(Shapes(shapes, sae));

    public override string MemoryAdvice(SaeStepShapes shapes, SaeConfig sae) => TemporalMemoryEstimate.Advice(Shapes(shapes, sae));

    /// <summary>
    /// 2: the backward adds the gradients in another order (memory-lean autograd nodes). 3: special tokens are kept out
    /// of the buffer by default (sae.temporal.exclude_special_tokens), and TopK trains with aux-k.
    /// </summary>
    public override int CacheVersion => 3;

    public override SparseAutoencoder Create(SaeConfig sae, int dIn, long seed) => TemporalSparseAutoencoder.Create(sae, dIn, seed);

    public override SaeLensActivation SaeLens(SaeConfig sae) => TemporalActivation.SaeLens(sae);

    static TemporalMemoryShapes Shapes(SaeStepShapes shapes, SaeConfig sae) =>
        new((int)shapes.Sequences, shapes.ContextSize, shapes.DIn, shapes.DSae, sae.Temporal.Buffer, sae.Temporal.GradientCheckpointing,
            AuxK: sae.Temporal.Activation == "topk");
}

/// <summary>
/// z_t = W_enc^T (x_t - b_dec) + b_enc; h_t = sum_{j=0..K-1} c_j * z_{t-j} * m_{t,j}; f_t = act(h_t);
/// x_hat_t = W_dec^T f_t + b_dec. c [K, d_sae] is the parameter <c>c_temporal</c>, c_0 = 1 and c_{j&gt;0} = 0 at
/// initialisation, so training starts from a plain SAE. With <see cref="ExcludeSpecialTokens"/>, m_{t,j} = 0 when
/// t-j is a special token: a window's leading BOS carries no content, and mixing its pre-activation into the next
/// K-1 codes would give every window's first words a shared offset.
/// <para>Loss = mse + coefficients["sparsity"] * sparsity + temporal, with
/// mse = mean over non-special tokens of ||x - x_hat||^2 (summed over d_in); sparsity = mean over non-special tokens
/// of sum_i f_i ||W_dec,i||; temporal = sum over levels of weight_l * temporal_level{l}, where temporal_level{l} is the
/// mean over the level's scales s of L_tc(s) on the level's latents (a mean, so adding scales does not raise a level's
/// overall weight). With the TopK activation the loss adds coefficients["aux_k"] * aux_k (AuxKLoss.cs) on the
/// pre-activations h. Terms hold these values before the step coefficients.</para>
/// </summary>
public sealed class TemporalSparseAutoencoder : SparseAutoencoder
{
    public const string RegistryKey = "temporal";

    readonly Parameter wEnc, wDec, bEnc, bDec, c;
    readonly TemporalActivation activation;

    /// <summary>Builds the SAE from the manifest's sae section (checked by the architecture) for activations of width dIn.</summary>
    public static TemporalSparseAutoencoder Create(SaeConfig config, int dIn, long seed) => new(dIn, config.DSae, config.Temporal, config.K, seed);

    TemporalSparseAutoencoder(int dIn, int dSae, TemporalConfig config, int k, long seed) : base(RegistryKey, dIn, dSae)
    {
        if (dIn < 1) throw new InvalidInputException($"temporal SAE: d_in = {dIn} must be at least 1.");
        if (dSae < 1) throw new InvalidInputException($"sae.d_sae = {dSae} must be at least 1.");
        if (config.Buffer < 1) throw new InvalidInputException($"sae.temporal.buffer = {config.Buffer} must be at least 1.");
        Buffer = config.Buffer;
        Boundary = TemporalSegments.ParseBoundary(config.Boundary);
        GradientCheckpointing = config.GradientCheckpointing;
        ExcludeSpecialTokens = config.ExcludeSpecialTokens;
        Levels = ConsistencyLevels.Resolve(config.Levels, dSae);
        activation = TemporalActivation.Of(config.Activation, k);

        (wEnc, wDec, bEnc, bDec) = RegisterDictionary(seed);
        using var kernel = torch.zeros(config.Buffer, dSae);         // [K, d_sae]
        kernel[0].fill_(1);
        c = new Parameter(kernel.clone());
        register_parameter("c_temporal", c);
    }

    public override string Architecture => RegistryKey;

    /// <summary>K, the number of positions the buffer covers (the current one included).</summary>
    public int Buffer { get; }
    public BoundaryMode Boundary { get; }
    public bool GradientCheckpointing { get; }
    /// <summary>Special tokens contribute nothing to later positions' buffers (m_{t,j} = 0 when t-j is special).</summary>
    public bool ExcludeSpecialTokens { get; }
    public IReadOnlyList<ResolvedLevel> Levels { get; }

    /// <summary>One level per consistency level, fastest first: level0, level1, ...</summary>
    public override IReadOnlyList<LatentLevel> LatentLevels =>
        Levels.Select((l, i) => new LatentLevel($"level{i}", l.Start, l.End)).ToArray();
    public string Activation => activation.Kind;

#pragma warning disable IDE1006 // SAELens' tensor names, as in the exported safetensors
    public Parameter W_enc => wEnc;
    public Parameter W_dec => wDec;
    public Parameter b_enc => bEnc;
    public Parameter b_dec => bDec;
#pragma warning restore IDE1006
    /// <summary>Per-latent temporal weights c [K, d_sae].</summary>
    public Parameter C => c;

    /// <summary>
    /// Features [B, T, d_sae] of a sequence batch X [B, T, d_in]. Causal: f_t depends on x_{t-K+1..t} only (within the
    /// segment when boundary-aware), so it can be spliced into a forward pass position by position.
    /// </summary>
    public override Tensor Encode(ActivationBatch batch)
    {
        CheckWidth(batch.X);
        using var scope = torch.NewDisposeScope();
        var segments = TemporalSegments.Of(batch, Boundary);
        var masks = ConvolutionMasks.Of(segments, Buffer, ExcludeSpecialTokens);
        return Features(batch.X, masks, checkpointed: false).view(segments.B, segments.T, DSae).MoveToOuterDisposeScope();
    }

    public override Tensor Decode(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var xHat = features.matmul(wDec).add_(bDec);   // [.., d_in]
        return xHat.MoveToOuterDisposeScope();
    }

    public override SaeForward Forward(SaeStep step)
    {
        var batch = step.Batch;
        CheckWidth(batch.X);
        using var scope = torch.NewDisposeScope();
        var segments = TemporalSegments.Of(batch, Boundary);
        var x = batch.X;
        var keep = segments.KeepMask(out long kept);                                     // [B, T]
        if (kept == 0)
            throw new InvalidInputException("temporal SAE: every token of the batch is special; there is nothing to reconstruct.");
        var masks = ConvolutionMasks.Of(segments, Buffer, ExcludeSpecialTokens);
        var f = Features(x, masks, GradientCheckpointing);                               // [B*T, d_sae]
        var norms = wDec.norm(1);                                                        // [d_sae]
        // The consistency node is made before the decoder and the sparsity term, so its backward runs after theirs and
        // adds its gradient in place to theirs, right before the features' own node frees its handle.
        var perLevel = TemporalConsistencyLoss.PerLevel(f, norms, segments, Levels);   // [L]
        var xHat = Decode(f).view(x.shape);                                             // [B, T, d_in]
        var mse = ((xHat - x).square().sum(-1) * keep).sum() / kept;
        var sparsity = (f.matmul(norms).view(keep.shape) * keep).sum() / kept;
        var levelWeights = torch.tensor(Levels.Select(l => l.Weight).ToArray(), device: x.device).to_type(perLevel.dtype);
        var temporal = (perLevel * levelWeights).sum();
        // The levels' weights are the temporal term's coefficients; it has no warm-up.
        var loss = mse + step.Coefficients["sparsity"] * sparsity + temporal;
        Tensor? aux = null;
        if (activation.Kind == "topk")
        {
            aux = AuxK(x, xHat, keep, masks, step.DeadLatents);
            loss = loss + step.Coefficients[AuxKLoss.Term] * aux;
        }

        var terms = new Dictionary<string, Tensor>
        {
            ["mse"] = mse.detach().MoveToOuterDisposeScope(),
            ["sparsity"] = sparsity.detach().MoveToOuterDisposeScope(),
            ["temporal"] = temporal.detach().MoveToOuterDisposeScope(),
        };
        for (int l = 0; l < Levels.Count; l++)
            terms[$"temporal_level{l}"] = perLevel[l].detach().MoveToOuterDisposeScope();
        if (aux is not null) terms[AuxKLoss.Term] = aux.detach().MoveToOuterDisposeScope();
        return new SaeForward(loss.MoveToOuterDisposeScope(), terms, f.view(segments.B, segments.T, DSae).MoveToOuterDisposeScope(),
            xHat.MoveToOuterDisposeScope());
    }

    /// <summary>f [B*T, d_sae], through the encoder's autograd node.</summary>
    Tensor Features(Tensor x, ConvolutionMasks masks, bool checkpointed) =>
        TemporalEncoder.Apply(x, wEnc, bEnc, bDec, c, activation, masks, checkpointed);

    /// <summary>
    /// Aux-k on the pre-activations h = conv(z), the latents' own pre-activations here. The encoder node does not hand
    /// h out, so while some latent is dead the dead latents' columns of h are computed again with plain autograd ops
    /// (their gradients reach W_enc, b_enc, b_dec and c); with none dead the term is 0 and costs nothing.
    /// </summary>
    Tensor AuxK(Tensor x, Tensor xHat, Tensor keep, ConvolutionMasks masks, Tensor? deadLatents)
    {
        if (AuxKLoss.DeadIndices(deadLatents) is not { } dead) return torch.zeros([], x.dtype, x.device);
        var z = PreActivation(x, wEnc.index_select(1, dead), bEnc.index_select(0, dead), bDec);   // [B, T, n_dead]
        var h = TemporalConvolution.Convolve(z, c.index_select(1, dead), masks);                  // [B, T, n_dead]
        return AuxKLoss.OnDead(h, x - xHat, wDec.index_select(0, dead), keep);
    }

    /// <summary>z_t for one token per stream: x [S, d_in] -> [S, d_sae]. Used by the streaming encoder.</summary>
    internal Tensor TokenPreActivations(Tensor x) => PreActivation(x, wEnc, bEnc, bDec);

    internal Tensor ApplyActivation(Tensor h) => activation.Apply(h);

    void CheckWidth(Tensor x)
    {
        if (x.shape[^1] != DIn)
            throw new InvalidInputException($"temporal SAE: activations have width {x.shape[^1]}, but the SAE was built for d_in = {DIn}.");
    }
}
