// Lifetimes of the gradient handles that pass through this project's custom autograd nodes. TorchSharp wraps the
// gradient a node receives in a new managed handle, and LibTorch copies the gradients a node returns when its backward
// returns; both handles would otherwise live in the caller's dispose scope until the training step ends, each holding a
// [B, T, d_sae] tensor through the rest of the backward pass (measured: about two such tensors of extra peak memory).
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

internal static class GradientHandoff
{
    // The backward pass runs each node on the thread that called backward(), one node at a time.
    [ThreadStatic] static List<Tensor>? returned;

    /// <summary>
    /// Call first in a backward: disposes the handles the previous custom node returned (LibTorch holds its own
    /// references by now), so those gradients are freed as soon as LibTorch is done with them.
    /// </summary>
    public static void ReleaseEarlier()
    {
        if (returned is null) return;
        foreach (var tensor in returned) tensor.Dispose();
        returned.Clear();
    }

    /// <summary>
    /// Call last in a backward: disposes the received gradient's handle and moves the gradients to return out of the
    /// backward's dispose scope, remembering them for <see cref="ReleaseEarlier"/>. Whatever no later node releases, the
    /// caller's scope disposes, as before.
    /// </summary>
    public static List<Tensor> Return(Tensor received, params Tensor?[] gradients)
    {
        received.Dispose();
        returned ??= [];
        var result = new List<Tensor>(gradients.Length);
        foreach (var gradient in gradients)
        {
            if (gradient is not null) returned.Add(gradient.MoveToOuterDisposeScope());
            result.Add(gradient!);
        }
        return result;
    }

    /// <summary>
    /// The received gradient as a tensor the node may overwrite: itself when it is dense (then it is the sum the engine
    /// accumulated for this node alone: the Temporal SAE's features have several consumers), else a dense copy (an
    /// expanded gradient, as from a sum, shares one element among many positions).
    /// </summary>
    public static Tensor Writable(Tensor received) => received.is_contiguous() ? received.alias() : received.contiguous();
}
