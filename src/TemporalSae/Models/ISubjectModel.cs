using static TorchSharp.torch;

namespace TemporalSae.Models;

/// <summary>
/// A hook at the residual stream after block L (TransformerLens' blocks.L.hook_resid_post).
/// Capture: the output carries ResidPost. Replace: the function's result continues the forward pass (splice).
/// StopAfter: the pass ends after block L and no logits are computed.
/// </summary>
public sealed record ResidHook(int Layer, Func<Tensor, Tensor>? Replace = null, bool StopAfter = false);

/// <summary>Logits [B, T, vocab] (null when stopped early) and the hooked residual [B, T, d_model], if any.</summary>
public sealed record ModelOutput(Tensor? Logits, Tensor? ResidPost);

/// <summary>A causal language model whose activations are studied (GPT-2, Gemma-2, the built-in model).</summary>
public interface ISubjectModel : IDisposable
{
    string ModelType { get; }
    int DModel { get; }
    int Layers { get; }
    int VocabSize { get; }

    /// <summary>Runs token ids [B, T] (int64) exactly as given (no BOS added).</summary>
    ModelOutput Forward(Tensor inputIds, ResidHook? hook = null);
}
