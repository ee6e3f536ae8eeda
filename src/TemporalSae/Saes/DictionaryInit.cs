// Dictionary initialisation shared by every SAE, as SAELens initialises a standard SAE: decoder rows in
// random directions with a small norm, W_enc = W_dec^T, zero biases. Never all zeros: an SAE that
// starts from zero weights has no gradient to leave them and cannot learn.
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

internal static class DictionaryInit
{
    /// <summary>Norm of every initial decoder row (SAELens' decoder_init_norm default).</summary>
    public const double DecoderRowNorm = 0.1;

    /// <summary>W_dec [d_sae, d_in] with rows of norm <paramref name="rowNorm"/>, reproducible from the seed.</summary>
    public static Tensor DecoderRows(int dIn, int dSae, long seed, double rowNorm = DecoderRowNorm)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(unchecked((ulong)seed));
        var rows = torch.randn([dSae, dIn], generator: generator);   // [d_sae, d_in]
        rows.div_(rows.norm(1, keepdim: true)).mul_(rowNorm);
        return rows.MoveToOuterDisposeScope();
    }
}
