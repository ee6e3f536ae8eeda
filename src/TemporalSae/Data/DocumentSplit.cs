// Train/validation/test split by whole documents, stratified by label (so by source and label), from a seed: same result on every machine.

using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

public enum Split
{
    Train = 0,
    Val = 1,
    Test = 2,
}

/// <summary>
/// Per label (each label belongs to one source), the documents (sorted by name) are shuffled with
/// <see cref="SplitMix64"/> seeded from the seed and the label id; then n_val = round(n * val_fraction) and n_test = round(n * (1 - train - val)) documents (each at
/// least one when the label has three or more documents) go to validation and test, the rest to train. Rounding
/// is half away from zero. Changing one label's documents never changes another label's split, and labels keep
/// their ids when sources are added (Brown's come first), so Brown's split is the same in every run.
/// </summary>
public static class DocumentSplit
{
    /// <summary>The split of each document, indexed like <paramref name="names"/> and <paramref name="labelIds"/>.</summary>
    public static Split[] Assign(IReadOnlyList<string> names, IReadOnlyList<int> labelIds, double trainFraction, double valFraction, long seed)
    {
        if (names.Count != labelIds.Count) throw new ArgumentException("names and label ids differ in length");
        if (trainFraction <= 0 || valFraction < 0 || trainFraction + valFraction > 1)
            throw new InvalidInputException(
                $"data.train_fraction ({trainFraction}) and data.val_fraction ({valFraction}) must be positive and sum to at most 1.");
        double testFraction = 1 - trainFraction - valFraction;
        var result = new Split[names.Count];
        foreach (var label in Enumerable.Range(0, names.Count).GroupBy(i => labelIds[i]).OrderBy(g => g.Key))
        {
            int[] members = label.OrderBy(i => names[i], StringComparer.Ordinal).ToArray();
            // The seed name says "genre" because Brown's genres were the first labels; keeping it keeps Brown's split.
            ulong labelSeed = (ulong)ContentHash.DeriveSeed(seed, $"data/split/genre-{label.Key}");
            new SplitMix64(labelSeed).Shuffle<int>(members);
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
