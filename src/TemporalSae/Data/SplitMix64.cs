// SplitMix64 (Steele, Lea & Flood 2014; the generator java.util.SplittableRandom and xoshiro's seeding use): a tiny
// PRNG written out here so that splits and shuffles are identical on every machine and .NET version.

namespace TemporalSae.Data;

/// <summary>Deterministic 64-bit generator; <see cref="NextBelow"/> is unbiased (Lemire's multiply-and-reject).</summary>
public sealed class SplitMix64(ulong seed)
{
    ulong state = seed;

    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, bound).</summary>
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0) throw new ArgumentOutOfRangeException(nameof(bound), "bound must be positive");
        UInt128 product = (UInt128)Next() * bound;
        ulong low = (ulong)product;
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                product = (UInt128)Next() * bound;
                low = (ulong)product;
            }
        }
        return (ulong)(product >> 64);
    }

    /// <summary>Fisher-Yates shuffle in place (from the last element down, as Knuth's Algorithm P).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)NextBelow((ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A shuffled 0..count-1.</summary>
    public int[] Permutation(int count)
    {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        Shuffle<int>(order);
        return order;
    }
}
