// Document split: a pinned PRNG, determinism for a seed, and per-genre stratification.

using TemporalSae.Data;

namespace TemporalSae.Tests.Data;

public class DocumentSplitTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var generator = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, generator.Next());
        Assert.Equal(0x6E789E6AA1B965F4UL, generator.Next());
        Assert.Equal(0x06C45D188009454FUL, generator.Next());
    }

    [Fact]
    public void NextBelow_stays_in_range_and_covers_it()
    {
        var generator = new SplitMix64(7);
        int[] seen = new int[5];
        for (int i = 0; i < 5000; i++) seen[(int)generator.NextBelow(5)]++;
        Assert.All(seen, count => Assert.InRange(count, 850, 1150));
    }

    static (string[] Names, int[] Genres) Synthetic()
    {
        int[] sizes = [44, 27, 6, 9, 80, 1, 2];
        var names = new List<string>();
        var genres = new List<int>();
        for (int g = 0; g < sizes.Length; g++)
            for (int i = 0; i < sizes[g]; i++)
            {
                names.Add($"c{(char)('a' + g)}{i:D2}");
                genres.Add(g);
            }
        return ([.. names], [.. genres]);
    }

    [Fact]
    public void Same_seed_gives_the_same_split_and_another_seed_a_different_one()
    {
        (string[] names, int[] genres) = Synthetic();
        Split[] first = DocumentSplit.Assign(names, genres, 0.8, 0.1, 42);
        Assert.Equal(first, DocumentSplit.Assign(names, genres, 0.8, 0.1, 42));
        Assert.NotEqual(first, DocumentSplit.Assign(names, genres, 0.8, 0.1, 43));
        // Input order does not matter: the split depends on names and genres only.
        int[] reversed = Enumerable.Range(0, names.Length).Reverse().ToArray();
        Split[] again = DocumentSplit.Assign(reversed.Select(i => names[i]).ToArray(), reversed.Select(i => genres[i]).ToArray(), 0.8, 0.1, 42);
        Assert.Equal(first, Enumerable.Range(0, names.Length).Select(i => again[Array.IndexOf(reversed, i)]).ToArray());
    }

    [Fact]
    public void Every_genre_is_split_by_its_own_fractions()
    {
        (string[] names, int[] genres) = Synthetic();
        Split[] splits = DocumentSplit.Assign(names, genres, 0.8, 0.1, 42);
        int Count(int genre, Split split) => Enumerable.Range(0, names.Length).Count(i => genres[i] == genre && splits[i] == split);
        Assert.Equal((36, 4, 4), (Count(0, Split.Train), Count(0, Split.Val), Count(0, Split.Test)));
        Assert.Equal((64, 8, 8), (Count(4, Split.Train), Count(4, Split.Val), Count(4, Split.Test)));
        // Small genres still reach every split once they have three documents; tiny ones keep one in train.
        Assert.Equal((4, 1, 1), (Count(2, Split.Train), Count(2, Split.Val), Count(2, Split.Test)));
        Assert.Equal((7, 1, 1), (Count(3, Split.Train), Count(3, Split.Val), Count(3, Split.Test)));
        Assert.Equal(1, Count(5, Split.Train));
        Assert.True(Count(6, Split.Train) >= 1);
    }

    [Fact]
    public void Real_corpus_split_is_stratified_and_pinned()
    {
        PreparedData data = BrownData.Data;
        Assert.Equal(397, data.Splits.Count(s => s == Split.Train));
        Assert.Equal(52, data.Splits.Count(s => s == Split.Val));
        Assert.Equal(51, data.Splits.Count(s => s == Split.Test));
        for (int g = 0; g < data.Corpus.Labels.Count; g++)
            foreach (Split split in Enum.GetValues<Split>())
                Assert.Contains(data.Corpus.Documents, d => d.LabelId == g && data.Splits[d.Id] == split);
        string Names(Split split, string prefix) => string.Join(' ', data.Corpus.Documents
            .Where(d => data.Splits[d.Id] == split && d.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(d => d.Name));
        Assert.Equal("ca11 ca17 ca23 ca41", Names(Split.Val, "ca"));
        Assert.Equal("cm03", Names(Split.Test, "cm"));
    }
}
