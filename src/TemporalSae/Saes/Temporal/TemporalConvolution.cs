// The causal latent-space convolution of the Temporal SAE (docs/science.md, "The Temporal SAE" 1):
// h_t = sum_{j=0..K-1} c_j * z_{t-j} * m_{t,j}, computed as K shifted multiply-adds on views of z (no [B, T, K, d_sae]
// tensor), and its gradients, written over the incoming gradient; the autograd node around it is TemporalEncoder.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TemporalSae.Saes.Temporal;

/// <summary>
/// The buffer masks of one batch: <c>Masks[j]</c> is m_j for t = j..T-1 as float [B, T-j, 1], or null when no pair
/// at lag j is cut (then the shift alone limits the buffer). An autograd node takes them as tensor arguments (nulls
/// where absent) and owns them through save_for_backward, so a caller's dispose scope may end before the backward pass.
/// </summary>
internal sealed record ConvolutionMasks(IReadOnlyList<Tensor?> Masks)
{
    public static ConvolutionMasks Of(TemporalSegments segments, int buffer, bool excludeSpecial)
    {
        int lags = Math.Min(buffer, segments.T);
        var masks = new Tensor?[lags];
        if (segments.HasCuts(lags - 1, excludeSpecial))
            for (int j = 1; j < lags; j++)
                masks[j] = segments.BufferMask(j, excludeSpecial);
        return new ConvolutionMasks(masks);
    }

    /// <summary>Rebuilds the masks from saved variables laid out as <see cref="Masks"/>.</summary>
    public static ConvolutionMasks FromSaved(IReadOnlyList<Tensor?> saved, int offset, int lags) =>
        new(saved.Skip(offset).Take(lags).ToArray());
}

/// <summary>
/// An axis of a [B, T, d_sae] tensor (sequences or positions) in eight ranges, in order, so that a temporary holds an
/// eighth of the tensor instead of all of it. Elementwise work gets the same bits as one pass; a sum over blocks rounds
/// differently, within float tolerance.
/// </summary>
internal static class Blocks
{
    const int Count = 8;

    public static IEnumerable<(long Start, long Length)> Of(long length)
    {
        long size = Math.Max(1, (length + Count - 1) / Count);
        for (long start = 0; start < length; start += size)
            yield return (start, Math.Min(size, length - start));
    }
}

internal static class TemporalConvolution
{
    /// <summary>
    /// h = sum_j c_j * shift_j(z) * m_j. z [B, T, d_sae], c [K, d_sae] -> h [B, T, d_sae]. The encoder node calls it
    /// without autograd; aux-k calls it with autograd (in-place adds into views of h, which autograd records).
    /// </summary>
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
    /// Gradients of <see cref="Convolve"/>: gc [K, d_sae], and gz [B, T, d_sae] written over gh (which the caller gives
    /// up). <paramref name="releaseZ"/> disposes z as soon as gc is known.
    /// </summary>
    public static (Tensor Gz, Tensor Gc) Backward(Tensor gh, Tensor z, Tensor c, ConvolutionMasks masks, bool releaseZ)
    {
        long t = z.shape[1];
        int lags = masks.Masks.Count;
        var gc = torch.zeros(c.shape, c.dtype, c.device);
        // gc_j = sum_{b,t} gh_t * z_{t-j} * m_{t,j}, one lag and one block of sequences at a time.
        for (int j = 0; j < lags; j++)
            foreach (var (start, length) in Blocks.Of(gh.shape[0]))
            {
                using var scope = torch.NewDisposeScope();
                var product = gh.narrow(0, start, length).narrow(1, j, t - j) * z.narrow(0, start, length).narrow(1, 0, t - j);
                if (j > 0 && masks.Masks[j] is { } m) product.mul_(m.narrow(0, start, length));
                gc[j].add_(product.sum([0, 1]));
            }
        if (releaseZ) z.Dispose();

        // gz_s = c_0 gh_s + sum_{j>=1} c_j gh_{s+j} m_{s+j,j}, written over gh: blocks of positions in ascending order,
        // each computed into a temporary from gh at its own and later positions, which are still unchanged.
        var gz = gh;
        foreach (var (s0, length) in Blocks.Of(t))
        {
            using var scope = torch.NewDisposeScope();
            var acc = gh.narrow(1, s0, length) * c[0];                   // [B, length, d_sae]
            for (int j = 1; j < lags; j++)
            {
                long count = Math.Min(length, t - j - s0);            // positions s with s + j < T
                if (count <= 0) break;
                var later = gh.narrow(1, s0 + j, count);
                if (masks.Masks[j] is { } m) later = later * m.narrow(1, s0, count);
                acc.narrow(1, 0, count).addcmul_(later, c[j], 1);
            }
            gh.narrow(1, s0, length).copy_(acc);
        }
        return (gz, gc);
    }
}
