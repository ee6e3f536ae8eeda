// Unigram and add-k bigram cross-entropy baselines for next-token prediction, fitted on the training windows and
// measured on the validation windows over exactly the positions the language model is scored on (position t predicts
// t+1 within a window). The unigram uses add-one smoothing; the bigram's k is the grid value with the lowest
// validation cross-entropy, which favours the baseline (a model that beats it beats any k). Bigram scores a chosen
// subset of held-out pairs, for the activations stage's held-out comparison.
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
        var counts = new Counts(trainPrev, trainNext, vocab);

        double unigramNll = 0;
        double total = trainNext.Length;
        for (int i = 0; i < valNext.Length; i++)
            unigramNll -= Math.Log((counts.Unigram[valNext[i]] + 1.0) / (total + vocab));
        var (bestCe, bestK) = counts.BestBigram(valPrev, valNext);
        return new NgramReport(unigramNll / valNext.Length, bestCe, bestK, valNext.Length);
    }

    /// <summary>
    /// The add-k bigram fitted on every pair of <paramref name="trainWindows"/> [N, T], scored on the given held-out
    /// pairs (previous id, next id) only, so that a caller can leave positions out (e.g. unknown targets) and score a
    /// model on exactly the same ones. k is the grid value with the lowest cross-entropy on those pairs.
    /// </summary>
    public static (double Ce, double K) Bigram(Tensor trainWindows, long[] heldoutPrev, long[] heldoutNext, int vocab)
    {
        if (heldoutPrev.Length != heldoutNext.Length || heldoutNext.Length == 0)
            throw new ArgumentException("the bigram needs as many previous ids as next ids, and at least one pair");
        var (trainPrev, trainNext) = Pairs(trainWindows);
        return new Counts(trainPrev, trainNext, vocab).BestBigram(heldoutPrev, heldoutNext);
    }

    sealed class Counts
    {
        readonly Dictionary<long, long> bigram = [];
        readonly long[] prevCount;
        readonly int vocab;

        public Counts(long[] prev, long[] next, int vocab)
        {
            this.vocab = vocab;
            Unigram = new long[vocab];
            prevCount = new long[vocab];
            for (int i = 0; i < next.Length; i++)
            {
                Unigram[next[i]]++;
                prevCount[prev[i]]++;
                long key = prev[i] * vocab + next[i];
                bigram[key] = bigram.GetValueOrDefault(key) + 1;
            }
        }

        public long[] Unigram { get; }

        public (double Ce, double K) BestBigram(long[] prev, long[] next)
        {
            var pairCount = new long[next.Length];
            var contextCount = new long[next.Length];
            for (int i = 0; i < next.Length; i++)
            {
                pairCount[i] = bigram.GetValueOrDefault(prev[i] * vocab + next[i]);
                contextCount[i] = prevCount[prev[i]];
            }
            double bestCe = double.PositiveInfinity, bestK = double.NaN;
            foreach (double k in KGrid)
            {
                double nll = 0;
                for (int i = 0; i < next.Length; i++)
                    nll -= Math.Log((pairCount[i] + k) / (contextCount[i] + k * vocab));
                double ce = nll / next.Length;
                if (ce < bestCe) (bestCe, bestK) = (ce, k);
            }
            return (bestCe, bestK);
        }
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
