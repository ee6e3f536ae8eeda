using TorchSharp;
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

/// <summary>Coefficients of one training step, after warm-ups are applied.</summary>
public sealed record StepCoefficients(double Sparsity, double AuxK = 0, double Temporal = 1, double Contrastive = 1);

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

    /// <summary>The registry key this SAE was built from.</summary>
    public abstract string Architecture { get; }

    /// <summary>Features f with the batch's leading dimensions: [N, d_sae] or [B, T, d_sae].</summary>
    public abstract Tensor Encode(ActivationBatch batch);

    /// <summary>x_hat = f W_dec + b_dec.</summary>
    public abstract Tensor Decode(Tensor features);

    /// <summary>Training forward pass with all loss terms.</summary>
    public abstract SaeForward Forward(ActivationBatch batch, StepCoefficients coefficients);
}
