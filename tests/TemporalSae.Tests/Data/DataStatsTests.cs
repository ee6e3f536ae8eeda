// Counts per split and genre add up, and the printed tables are aligned.

using TemporalSae.Data;

namespace TemporalSae.Tests.Data;

public class DataStatsTests
{
    [Fact]
    public void Split_and_genre_counts_add_up_to_the_corpus()
    {
        PreparedData data = BrownData.Data;
        DataStats stats = DataStats.Compute(data.Corpus, data.Splits, 128);
        Assert.Equal(new DataCounts("total", 500, 57_340, 1_161_192, data.Corpus.Tokens.Count), stats.Total);
        Assert.Equal(stats.Total.Tokens, stats.Splits.Sum(s => s.Tokens));
        Assert.Equal(stats.Total.Words, stats.Labels.Sum(g => g.Counts.Words));
        Assert.Equal(stats.Total.Sentences, stats.Labels.Sum(g => g.Counts.Sentences));
        Assert.Equal([397, 52, 51], stats.Splits.Select(s => s.Documents));
        Assert.Equal([8_018, 1_064, 1_031], stats.WindowsPerSplit);
        foreach (DataGroup label in stats.Labels) Assert.Equal(label.Counts.Documents, label.DocumentsPerSplit.Sum());
        Assert.Equal("brown", Assert.Single(stats.Sources).Counts.Name);
    }

    [Fact]
    public void Tables_are_right_aligned_with_one_header_each()
    {
        PreparedData data = BrownData.Data;
        string[] tables = DataStats.Compute(data.Corpus, data.Splits, 64).ToTable().Split("\n\n");
        Assert.Equal(3, tables.Length);
        foreach (string table in tables)
        {
            string[] lines = table.TrimEnd('\n').Split('\n');
            Assert.Single(lines.Select(l => l.Length).Distinct());
        }
        Assert.StartsWith("split", tables[0]);
        Assert.Contains("windows(T=64)", tables[0]);
        Assert.Contains("brown", tables[1]);
        Assert.Contains("science_fiction", tables[2]);
    }
}
