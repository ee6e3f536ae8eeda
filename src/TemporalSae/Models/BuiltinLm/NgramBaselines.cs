// Unigram and add-k bigram cross-entropy baselines for next-token prediction, fitted on the training windows and
// measured on the validation windows over exactly the positions the language model is scored on (position t predicts
// t+1 within a window). The unigram uses add-one smoothing; the bigram's k is the grid value with the lowest
// validation cross-entropy, which favours the baseline (a model that beats it beats any k).
using static TorchSharp.torch;

namespace TemporalSae.Models.BuiltinLm;

public sealed record NgramReport(double UnigramCe, double BigramCe, double BigramK, long Positions);

public static class NgramBaselines
{
    public static readonly IReadOnlyList<double> KGrid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];

    /// <summary>Cross-entropies in nats; ids are model ids in [0, vocab) in windows [N, T].</summary>
    public static NgramReport Compute(Tensor trainWindows, Tensor valWindows, int vocab)
    {
        var (trainPrev, trainNext) = Pairs(trainWindows);
        var (valPrev, valNext) = Pairs(valWindows);

        var unigram = new long[vocab];
        var prevCount = new long[vocab];
        var bigram = new Dictionary<long, long>();
        for (int i = 0; i < trainNext.Length; i++)
        {
            unigram[trainNext[i]]++;
            prevCount[trainPrev[i]]++;
            long key = trainPrev[i] * vocab + trainNext[i];
            bigram[key] = bigram.GetValueOrDefault(key) + 1;
        }

        double unigramNll = 0;
        double total = trainNext.Length;
        var pairCount = new long[valNext.Length];
        var contextCount = new long[valNext.Length];
        for (int i = 0; i < valNext.Length; i++)
        {
            unigramNll -= Math.Log((unigram[valNext[i]] + 1.0) / (total + vocab));
            pairCount[i] = bigram.GetValueOrDefault(valPrev[i] * vocab + valNext[i]);
            contextCount[i] = prevCount[valPrev[i]];
        }

        double bestCe = double.PositiveInfinity, bestK = double.NaN;
        foreach (double k in KGrid)
        {
            double nll = 0;
            for (int i = 0; i < valNext.Length; i++)
                nll -= Math.Log((pairCount[i] + k) / (contextCount[i] + k * vocab));
            double ce = nll / valNext.Length;
            if (ce < bestCe) (bestCe, bestK) = (ce, k);
        }
        return new NgramReport(unigramNll / valNext.Length, bestCe, bestK, valNext.Length);
    }

    static (long[] Prev, long[] Next) Pairs(Tensor windows)
    {
        using var scope = NewDisposeScope();
        long t = windows.shape[1];
        var prev = windows[.., ..(int)(t - 1)].contiguous().reshape(-1).data<long>().ToArray();
        var next = windows[.., 1..].contiguous().reshape(-1).data<long>().ToArray();
        return (prev, next);
    }
}
