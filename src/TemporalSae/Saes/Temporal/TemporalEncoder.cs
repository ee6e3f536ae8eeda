// The Temporal SAE's encoder as one autograd node, x to the features f = act(conv(z)) with
// z = W_enc^T (x - b_dec) + b_enc. It keeps x, the parameters, f and, unless checkpointing (docs/science.md, "The Temporal
// SAE" 5), z; with checkpointing z is recomputed in the backward pass, one extra encoder matmul for one [B, T, d_sae]
// tensor less. One node for the matmul, the convolution and the activation, so that the backward writes the activation's
// and the convolution's input gradients over the incoming gradient and never keeps x - b_dec.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TemporalSae.Saes.Temporal;

internal sealed class TemporalEncoder : SingleTensorFunction<TemporalEncoder>
{
    public override string Name => "TemporalEncoder";

    /// <summary>f [B*T, d_sae] (tokens as rows) from x [B, T, d_in]; gradients reach W_enc, b_enc, b_dec, c and (if needed) x.</summary>
    public static Tensor Apply(Tensor x, Tensor wEnc, Tensor bEnc, Tensor bDec, Tensor c, TemporalActivation activation,
        ConvolutionMasks masks, bool checkpointing) =>
        apply([x, wEnc, bEnc, bDec, c, activation, checkpointing, .. masks.Masks.Cast<object?>()]);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var wEnc = (Tensor)vars[1];
        var bEnc = (Tensor)vars[2];
        var bDec = (Tensor)vars[3];
        var c = (Tensor)vars[4];
        var activation = (TemporalActivation)vars[5];
        bool checkpointing = (bool)vars[6];
        int lags = vars.Length - 7;
        var masks = ConvolutionMasks.FromSaved(vars.Skip(7).Select(v => v as Tensor).ToArray(), 0, lags);
        var z = SparseAutoencoder.PreActivation(x, wEnc, bEnc, bDec);                              // [B, T, d_sae]
        var f = activation.Apply(TemporalConvolution.Convolve(z, c, masks)).view(-1, wEnc.shape[1]);   // [B*T, d_sae]
        ctx.save_for_backward([x, wEnc, bEnc, bDec, c, f, checkpointing ? null : z, .. masks.Masks!]);
        if (checkpointing) z.Dispose();
        ctx.save_data("lags", lags);
        ctx.save_data("x_requires_grad", x.requires_grad);
        return f;
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        GradientHandoff.ReleaseEarlier();
        using var scope = torch.NewDisposeScope();
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0], wEnc = saved[1], bEnc = saved[2], bDec = saved[3], c = saved[4], f = saved[5];
        Tensor? keptZ = saved[6];
        int lags = (int)ctx.get_data("lags");
        var masks = ConvolutionMasks.FromSaved(saved, 7, lags);

        var z = keptZ ?? SparseAutoencoder.PreActivation(x, wEnc, bEnc, bDec);                    // [B, T, d_sae]
        var gh = GradientHandoff.Writable(gradOutput).view(z.shape);
        TemporalActivation.BackwardInPlace(gh, f.view(z.shape));
        var (gz, gc) = TemporalConvolution.Backward(gh, z, c, masks, releaseZ: keptZ is null);

        long dIn = x.shape[^1], dSae = wEnc.shape[1];
        var gzFlat = gz.view(-1, dSae);                                    // [N, d_sae]
        var centred = (x - bDec).view(-1, dIn);                            // [N, d_in]
        var gWEnc = centred.t().matmul(gzFlat);                            // [d_in, d_sae]
        var gBEnc = gzFlat.sum([0]);                                         // [d_sae]
        var gCentred = gzFlat.matmul(wEnc.t());                            // [N, d_in]
        var gBDec = gCentred.sum([0]).neg_();                                // [d_in]
        var gX = (bool)ctx.get_data("x_requires_grad") ? gCentred.view(x.shape) : null;
        return GradientHandoff.Return(gradOutput, [gX, gWEnc, gBEnc, gBDec, gc, null, null, .. new Tensor?[lags]]);
    }
}
