// Balanced example draws for one-vs-rest probing tasks (SAEBench's sparse_probing balances every task): as many
// negatives as positives, up to a per-class cap, chosen by a seeded SplitMix64 so every machine draws the same.
using TemporalSae.Data;

namespace TemporalSae.Evals.Probing;

public static class BalancedSampler
{
    /// <summary>
    /// min(<paramref name="perClass"/>, |positives|, |negatives|) items from each pool, each uniformly without
    /// replacement (a partial Fisher-Yates shuffle from the front), returned in draw order.
    /// </summary>
    public static (int[] Positives, int[] Negatives) Draw(IReadOnlyList<int> positivePool, IReadOnlyList<int> negativePool, int perClass, ulong seed)
    {
        int count = Math.Min(perClass, Math.Min(positivePool.Count, negativePool.Count));
        var random = new SplitMix64(seed);
        return (Take(positivePool, count, random), Take(negativePool, count, random));
    }

    /// <summary>Up to <paramref name="count"/> items of <paramref name="pool"/>, uniformly without replacement.</summary>
    public static int[] Take(IReadOnlyList<int> pool, int count, SplitMix64 random)
    {
        int[] items = pool.ToArray();
        count = Math.Min(count, items.Length);
        for (int i = 0; i < count; i++)
        {
            int j = i + (int)random.NextBelow((ulong)(items.Length - i));
            (items[i], items[j]) = (items[j], items[i]);
        }
        return items[..count];
    }
}
