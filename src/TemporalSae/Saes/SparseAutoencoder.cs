using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

/// <summary>
/// What the trainer and the evaluations see of an activation batch. Token batches have X [N, d_in] and no
/// segments; sequence batches (temporal SAEs) have X [B, T, d_in] with per-position document and sentence ids
/// [B, T] (int64) so that temporal operations can respect boundaries. Special [.., ] marks special tokens.
/// </summary>
public sealed record ActivationBatch(Tensor X, Tensor? DocumentIds = null, Tensor? SentenceIds = null, Tensor? Special = null)
{
    public bool IsSequence => X.dim() == 3;
}

/// <summary>A named contiguous range of latents [Start, End), for evaluations that report per latent level.</summary>
public sealed record LatentLevel(string Name, int Start, int End)
{
    public int Count => End - Start;
}

/// <summary>The result of one training forward pass: the total loss, its named terms, and the features.</summary>
public sealed record SaeForward(Tensor Loss, IReadOnlyDictionary<string, Tensor> Terms, Tensor Features, Tensor Reconstruction);

/// <summary>
/// Base of every SAE architecture: x_hat = W_dec f + b_dec with f from an architecture-specific encoder.
/// Parameter names and layouts follow SAELens (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec).
/// </summary>
public abstract class SparseAutoencoder : nn.Module
{
    protected SparseAutoencoder(string name, int dIn, int dSae) : base(name)
    {
        DIn = dIn;
        DSae = dSae;
    }

    public int DIn { get; }
    public int DSae { get; }

    /// <summary>
    /// Creates and registers the dictionary every architecture shares, with SAELens' names and initialisation:
    /// W_dec rows in random directions of norm <paramref name="rowNorm"/>, W_enc = W_dec^T, zero biases.
    /// </summary>
    protected (Parameter WEnc, Parameter WDec, Parameter BEnc, Parameter BDec) RegisterDictionary(long seed, double rowNorm = DictionaryInit.DecoderRowNorm)
    {
        using var rows = DictionaryInit.DecoderRows(DIn, DSae, seed, rowNorm);
        var wDec = new Parameter(rows.clone());             // [d_sae, d_in]
        var wEnc = new Parameter(rows.t().contiguous());    // [d_in, d_sae]
        var bEnc = new Parameter(torch.zeros(DSae));
        var bDec = new Parameter(torch.zeros(DIn));
        register_parameter("W_enc", wEnc);
        register_parameter("W_dec", wDec);
        register_parameter("b_enc", bEnc);
        register_parameter("b_dec", bDec);
        return (wEnc, wDec, bEnc, bDec);
    }

    /// <summary>
    /// The latent levels evaluations report separately: one level "all" unless an architecture groups its latents
    /// (temporal consistency levels, T-SAE's high-level prefix).
    /// </summary>
    public virtual IReadOnlyList<LatentLevel> LatentLevels => [new LatentLevel("all", 0, DSae)];

    /// <summary>The registry key this SAE was built from.</summary>
    public abstract string Architecture { get; }

    /// <summary>Features f with the batch's leading dimensions: [N, d_sae] or [B, T, d_sae].</summary>
    public abstract Tensor Encode(ActivationBatch batch);

    /// <summary>x_hat = f W_dec + b_dec.</summary>
    public abstract Tensor Decode(Tensor features);

    /// <summary>Training forward pass: the loss weighted by the step's coefficients, and its named terms before them.</summary>
    public abstract SaeForward Forward(SaeStep step);

    /// <summary>Called by the trainer after each optimiser step (e.g. to renormalise decoder rows).</summary>
    public virtual void AfterStep() { }

    /// <summary>
    /// Folds an input scale into the weights: an SAE trained on s * x becomes one that reads raw x and reconstructs
    /// raw x (W_enc *= s, W_dec /= s, b_dec /= s). Every architecture here is linear in x up to its activation, so
    /// its features are unchanged.
    /// </summary>
    public virtual void FoldInputScale(double scale)
    {
        using var noGrad = torch.no_grad();
        var parameters = named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters["W_enc"].mul_(scale);
        parameters["W_dec"].div_(scale);
        parameters["b_dec"].div_(scale);
    }

    /// <summary>
    /// z = W_enc^T (x - b_dec) + b_enc for x [.., d_in] -> [.., d_sae]. One addmm, so the bias is added inside the GEMM
    /// instead of in an extra pass over the largest tensor of the step.
    /// </summary>
    public static Tensor PreActivation(Tensor x, Tensor wEnc, Tensor bEnc, Tensor bDec)
    {
        using var centred = (x - bDec).reshape(-1, x.shape[^1]);                      // [tokens, d_in]
        var z = torch.addmm(bEnc, centred, wEnc, 1, 1);                                 // [tokens, d_sae]
        // Token batches get z itself, not a view of it: an in-place op on a view (StandardSae's ReLU) would make
        // autograd copy the whole gradient twice in the backward pass (CopySlices).
        if (x.dim() == 2) return z;
        using (z) return z.view([.. x.shape[..^1], wEnc.shape[1]]);                    // [.., d_sae]
    }

    /// <summary>Mean of a per-token quantity [..] over the tokens that are not special.</summary>
    protected static Tensor TokenMean(Tensor perToken, ActivationBatch batch)
    {
        if (batch.Special is null) return perToken.mean();
        using var keep = batch.Special.logical_not().to_type(perToken.dtype);
        return (perToken * keep).sum() / keep.sum().clamp_min(1);
    }
}
