// Train/validation/test split by whole documents, stratified by genre, from a seed: same result on every machine.

using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

public enum Split
{
    Train = 0,
    Val = 1,
    Test = 2,
}

/// <summary>
/// Per genre, the documents (sorted by name) are shuffled with <see cref="SplitMix64"/> seeded from the seed and the
/// genre name; then n_val = round(n * val_fraction) and n_test = round(n * (1 - train - val)) documents (each at
/// least one when the genre has three or more documents) go to validation and test, the rest to train. Rounding
/// is half away from zero. Changing one genre's documents never changes another genre's split.
/// </summary>
public static class DocumentSplit
{
    /// <summary>The split of each document, indexed like <paramref name="names"/> and <paramref name="genreIds"/>.</summary>
    public static Split[] Assign(IReadOnlyList<string> names, IReadOnlyList<int> genreIds, double trainFraction, double valFraction, long seed)
    {
        if (names.Count != genreIds.Count) throw new ArgumentException("names and genre ids differ in length");
        if (trainFraction <= 0 || valFraction < 0 || trainFraction + valFraction > 1)
            throw new InvalidInputException(
                $"data.train_fraction ({trainFraction}) and data.val_fraction ({valFraction}) must be positive and sum to at most 1.");
        double testFraction = 1 - trainFraction - valFraction;
        var result = new Split[names.Count];
        foreach (var genre in Enumerable.Range(0, names.Count).GroupBy(i => genreIds[i]).OrderBy(g => g.Key))
        {
            int[] members = genre.OrderBy(i => names[i], StringComparer.Ordinal).ToArray();
            ulong genreSeed = (ulong)ContentHash.DeriveSeed(seed, $"data/split/genre-{genre.Key}");
            new SplitMix64(genreSeed).Shuffle<int>(members);
            int n = members.Length;
            int nVal = (int)Math.Round(n * valFraction, MidpointRounding.AwayFromZero);
            int nTest = (int)Math.Round(n * testFraction, MidpointRounding.AwayFromZero);
            if (n >= 3)
            {
                if (valFraction > 0) nVal = Math.Max(1, nVal);
                if (testFraction > 1e-9) nTest = Math.Max(1, nTest);
            }
            nVal = Math.Min(nVal, n - 1);
            nTest = Math.Min(nTest, n - 1 - nVal);
            for (int k = 0; k < n; k++)
                result[members[k]] = k < nVal ? Split.Val : k < nVal + nTest ? Split.Test : Split.Train;
        }
        return result;
    }
}
