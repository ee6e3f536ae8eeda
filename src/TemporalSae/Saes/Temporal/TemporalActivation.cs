// The activation applied after the temporal convolution (and in the contrastive T-SAE's encoder): ReLU, or TopK as
// SAELens applies it (keep the k largest pre-activations per token, then ReLU).
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

internal sealed record TemporalActivation(string Kind, int K)
{
    public static TemporalActivation Of(string kind, int k) => kind is "relu" or "topk"
        ? new TemporalActivation(kind, k)
        : throw new InvalidInputException($"sae.temporal.activation: '{kind}' is not one of relu, topk.");

    /// <summary>sae.k, which only the TopK activation reads, for the descriptors of the architectures that use this activation.</summary>
    public static IEnumerable<(string Key, string Reason)> UnusedKeys(SaeConfig sae) =>
        sae.Temporal.Activation == "topk"
            ? []
            :
            [
                ("sae.k", "it keeps the top k only with `sae.temporal.activation: topk`"),
                (AuxKLoss.CoefficientKey, "it has an aux-k loss only with `sae.temporal.activation: topk`"),
            ];

    /// <summary>The aux-k loss term, which the architectures using this activation have with TopK only (a ReLU code has its L1 penalty).</summary>
    public static IEnumerable<LossCoefficient> AuxK(TrainingConfig training, SaeConfig sae) =>
        sae.Temporal.Activation == "topk" ? [AuxKLoss.Coefficient(training)] : [];

    /// <summary>SAELens has no temporal architectures: "custom", with this activation (the kernel travels as a tensor).</summary>
    public static SaeLensActivation SaeLens(SaeConfig sae) => sae.Temporal.Activation == "topk"
        ? new("custom", "topk", new JsonObject { ["k"] = sae.K })
        : new("custom", "relu", new JsonObject());

    /// <summary>
    /// f = act(h) with autograd; h [.., d_sae] is consumed: ReLU runs in place, which saves the step's largest tensor
    /// (every caller passes a freshly computed h that nothing else reads, and ReLU's backward needs only its output).
    /// </summary>
    public Tensor Apply(Tensor h)
    {
        if (Kind == "relu") return h.relu_();
        using var scope = torch.NewDisposeScope();
        var (values, indices) = h.topk(K, dim: -1);   // [.., k]
        var f = torch.zeros_like(h).scatter(-1, indices, torch.nn.functional.relu(values));
        return f.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Turns gf, the gradient at the output f [B, T, d_sae], into the gradient at the input h, in place: gf where f &gt; 0,
    /// else 0, for both kinds (TopK-then-ReLU passes the gradient exactly where its output is positive). The same
    /// values as autograd's ReLU and TopK backward, without their [B, T, d_sae] result tensor.
    /// </summary>
    public static void BackwardInPlace(Tensor gf, Tensor f)
    {
        foreach (var (start, length) in Blocks.Of(f.shape[0]))
        {
            using var scope = torch.NewDisposeScope();
            gf.narrow(0, start, length).masked_fill_(f.narrow(0, start, length).le(0), 0);
        }
    }
}
