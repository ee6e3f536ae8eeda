// Next-token top-1 accuracy, counted over the positions core's cross-entropy uses: position t predicts token t+1 for
// t = 0..T-2, and a prediction is dropped when its input token is special. Ties go to the lowest id (argmax), the
// same for both passes, so a splice that changes nothing changes no count. As in core, a prediction whose target is
// the subject model's unknown id is dropped too (counted in ExcludedUnknownTargets).
using static TorchSharp.torch;

namespace TemporalSae.Evals.Capability;

/// <param name="unknownId">The subject model's unknown id (null: a model without a vocabulary map, nothing excluded).</param>
public sealed class NextTokenAccuracy(long? unknownId = null)
{
    long predictions, cleanCorrect, splicedCorrect, excludedUnknownTargets;

    public long Predictions => predictions;
    public long ExcludedUnknownTargets => excludedUnknownTargets;
    public double Clean => predictions == 0 ? double.NaN : cleanCorrect / (double)predictions;
    public double Spliced => predictions == 0 ? double.NaN : splicedCorrect / (double)predictions;

    /// <summary>ids and dropInputs [B, T] (true where the input token is special); logits [B, T, V].</summary>
    public void Add(Tensor ids, Tensor dropInputs, Tensor cleanLogits, Tensor splicedLogits)
    {
        using var scope = NewDisposeScope();
        long t = ids.shape[1];
        Tensor targets = ids.narrow(1, 1, t - 1);                                          // [B, T-1]
        Tensor keep = dropInputs.narrow(1, 0, t - 1).logical_not();                       // [B, T-1]
        if (unknownId is long unknown)
        {
            Tensor unknownTarget = targets.eq(unknown);
            excludedUnknownTargets += keep.logical_and(unknownTarget).sum().item<long>();
            keep = keep.logical_and(unknownTarget.logical_not());
        }
        predictions += keep.sum().item<long>();
        cleanCorrect += Correct(cleanLogits, targets, keep);
        splicedCorrect += Correct(splicedLogits, targets, keep);
    }

    static long Correct(Tensor logits, Tensor targets, Tensor keep)
    {
        Tensor predicted = logits.narrow(1, 0, logits.shape[1] - 1).argmax(-1);          // [B, T-1]
        return predicted.eq(targets).logical_and(keep).sum().item<long>();
    }
}
