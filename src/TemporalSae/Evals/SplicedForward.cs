// The clean forward pass and the one with the SAE spliced in at the hook, for one batch of windows: what the
// evaluations that compare a model with and without its SAE share. The SAE sees whole sequences with their boundary
// ids, so temporal SAEs are spliced causally; with special tokens excluded, the splice keeps the original activation
// at special positions.
using TemporalSae.Models;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals;

/// <param name="Clean">The clean pass, with the hook's activation captured.</param>
/// <param name="Features">f [B, T, d_sae] of the captured activation.</param>
/// <param name="Reconstruction">x_hat [B, T, d].</param>
/// <param name="SplicedLogits">Logits [B, T, V] with the splice in place.</param>
public sealed record SplicedForward(ModelOutput Clean, Tensor Features, Tensor Reconstruction, Tensor SplicedLogits)
{
    public Tensor Activations => Clean.ResidPost!;

    /// <summary>Both passes for <paramref name="modelIds"/> [B, T] (the subject model's ids of <paramref name="batch"/>).</summary>
    public static SplicedForward Run(LoadedSubjectModel subject, SparseAutoencoder sae, int layer, EvalBatch batch, Tensor modelIds,
        bool excludeSpecialTokens)
    {
        ModelOutput clean = subject.Model.Forward(modelIds, new ResidHook(layer));
        Tensor x = clean.ResidPost!;                                                        // [B, T, d]
        Tensor f = sae.Encode(batch.Activations(x));                                       // [B, T, d_sae]
        Tensor xHat = sae.Decode(f);                                                        // [B, T, d]
        Tensor splice = excludeSpecialTokens ? where(batch.Special.unsqueeze(-1), x, xHat) : xHat;
        Tensor logits = subject.Model.Forward(modelIds, new ResidHook(layer, Replace: _ => splice)).Logits!;
        return new SplicedForward(clean, f, xHat, logits);
    }
}
