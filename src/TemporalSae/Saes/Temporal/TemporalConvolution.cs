// The causal latent-space convolution of the Temporal SAE (SCIENCE.md, "The Temporal SAE" 1):
// h_t = sum_{j=0..K-1} c_j * z_{t-j} * m_{t,j}, computed as K shifted multiply-adds on views of z (no [B, T, K, d_sae]
// tensor), with a hand-written backward that keeps only z and c.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TemporalSae.Saes.Temporal;

/// <summary>
/// The buffer masks of one batch: <c>Masks[j]</c> is m_j for t = j..T-1 as float [B, T-j, 1], or null when no pair
/// at lag j is cut (then the shift alone limits the buffer).
/// </summary>
internal sealed record ConvolutionMasks(IReadOnlyList<Tensor?> Masks)
{
    public static ConvolutionMasks Of(TemporalSegments segments, int buffer)
    {
        int lags = Math.Min(buffer, segments.T);
        var masks = new Tensor?[lags];
        if (segments.HasCuts(lags - 1))
            for (int j = 1; j < lags; j++)
                masks[j] = segments.BufferMask(j);
        return new ConvolutionMasks(masks);
    }

    /// <summary>
    /// The mask tensors as autograd-function arguments (nulls where absent). Passing them as tensors lets the node
    /// own them through save_for_backward, so a caller's dispose scope may end before the backward pass runs.
    /// </summary>
    public IEnumerable<Tensor?> Tensors => Masks;

    /// <summary>Rebuilds the masks from saved variables laid out as <see cref="Tensors"/>.</summary>
    public static ConvolutionMasks FromSaved(IReadOnlyList<Tensor?> saved, int offset, int lags) =>
        new(saved.Skip(offset).Take(lags).ToArray());
}

/// <summary>
/// Elementwise work on [B, T, d_sae] tensors in blocks of whole sequences: each element gets the same operations as in
/// one pass over the batch (the same bits), while a temporary holds an eighth of the batch instead of all of it.
/// </summary>
internal static class SequenceBlocks
{
    const int Blocks = 8;

    public static IEnumerable<(long Start, long Length)> Of(long sequences)
    {
        long size = Math.Max(1, (sequences + Blocks - 1) / Blocks);
        for (long start = 0; start < sequences; start += size)
            yield return (start, Math.Min(size, sequences - start));
    }
}

internal static class TemporalConvolution
{
    /// <summary>h = sum_j c_j * shift_j(z) * m_j. z [B, T, d_sae], c [K, d_sae] -> h [B, T, d_sae]. No autograd.</summary>
    public static Tensor Convolve(Tensor z, Tensor c, ConvolutionMasks masks)
    {
        long t = z.shape[1];
        var h = z * c[0];
        for (int j = 1; j < masks.Masks.Count; j++)
        {
            using var zs = z.narrow(1, 0, t - j);   // z_{t-j} for t = j..T-1: [B, T-j, d_sae]
            using var hs = h.narrow(1, j, t - j);
            using var cj = c[j];
            if (masks.Masks[j] is { } m)
            {
                using var masked = zs * m;
                hs.addcmul_(masked, cj, 1);
            }
            else
            {
                hs.addcmul_(zs, cj, 1);
            }
        }
        return h;
    }

    /// <summary>
    /// Gradients of <see cref="Convolve"/>: gz [B, T, d_sae] and gc [K, d_sae]. <paramref name="releaseZ"/> disposes z
    /// as soon as gc is known, before gz is allocated.
    /// </summary>
    public static (Tensor Gz, Tensor Gc) Backward(Tensor gh, Tensor z, Tensor c, ConvolutionMasks masks, bool releaseZ)
    {
        long t = z.shape[1];
        int lags = masks.Masks.Count;
        var gc = torch.zeros(c.shape, c.dtype, c.device);
        // gc_j = sum_{b,t} gh_t * z_{t-j} * m_{t,j}: one lag at a time so that only one temporary is alive.
        for (int j = 0; j < lags; j++)
        {
            using var scope = torch.NewDisposeScope();
            var ghs = gh.narrow(1, j, t - j);
            var zs = z.narrow(1, 0, t - j);
            var product = ghs * zs;                           // [B, T-j, d_sae]
            if (j > 0 && masks.Masks[j] is { } m) product.mul_(m);
            gc[j].copy_(product.sum([0, 1]));
        }
        if (releaseZ) z.Dispose();

        // gz_{t-j} += c_j * gh_t * m_{t,j}
        var gz = gh * c[0];
        for (int j = 1; j < lags; j++)
        {
            using var scope = torch.NewDisposeScope();
            var gzs = gz.narrow(1, 0, t - j);
            var ghs = gh.narrow(1, j, t - j);
            if (masks.Masks[j] is { } m)
                foreach (var (start, length) in SequenceBlocks.Of(gz.shape[0]))
                    gzs.narrow(0, start, length).addcmul_(ghs.narrow(0, start, length) * m.narrow(0, start, length), c[j], 1);
            else
                gzs.addcmul_(ghs, c[j], 1);
        }
        return (gz, gc);
    }
}

/// <summary>Autograd node for the convolution: inputs (z, c, masks), saves z and c, returns h.</summary>
internal sealed class TemporalConvolutionFunction : SingleTensorFunction<TemporalConvolutionFunction>
{
    public override string Name => "TemporalConvolution";

    public static Tensor Apply(Tensor z, Tensor c, ConvolutionMasks masks) =>
        apply([z, c, .. masks.Tensors.Cast<object?>()]);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var z = (Tensor)vars[0];
        var c = (Tensor)vars[1];
        int lags = vars.Length - 2;
        var masks = ConvolutionMasks.FromSaved(vars.Skip(2).Select(v => v as Tensor).ToArray(), 0, lags);
        ctx.save_for_backward([z, c, .. masks.Tensors!]);
        ctx.save_data("lags", lags);
        return TemporalConvolution.Convolve(z, c, masks);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        GradientHandoff.ReleaseEarlier();
        using var scope = torch.NewDisposeScope();
        var saved = ctx.get_saved_variables();
        int lags = (int)ctx.get_data("lags");
        var masks = ConvolutionMasks.FromSaved(saved, 2, lags);
        var (gz, gc) = TemporalConvolution.Backward(gradOutput, saved[0], saved[1], masks, releaseZ: false);
        return GradientHandoff.Return(gradOutput, [gz, gc, .. new Tensor?[lags]]);
    }
}
