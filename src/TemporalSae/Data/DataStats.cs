// Counts of documents, sentences, words and tokens per split and per genre, and their text table (`tsae data stats`).

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TemporalSae.Data;

/// <summary>
/// One row of counts. Words are Brown tokens, punctuation included (the corpus's own count: 1,161,192 in all);
/// tokens are GPT-2 BPE tokens of the documents, without the &lt;|endoftext|&gt; separators.
/// </summary>
public sealed record DataCounts(string Name, int Documents, int Sentences, long Words, long Tokens);

/// <summary>Per-split and per-genre counts, plus per-genre document counts in each split.</summary>
public sealed record DataStats(IReadOnlyList<DataCounts> Splits, DataCounts Total, IReadOnlyList<DataCounts> Genres,
    IReadOnlyList<IReadOnlyList<int>> GenreDocumentsPerSplit, int ContextSize, IReadOnlyList<int> WindowsPerSplit)
{
    public static DataStats Compute(TokenizedCorpus corpus, IReadOnlyList<Split> splits, int contextSize)
    {
        var splitRows = new List<DataCounts>();
        var windows = new List<int>();
        foreach (Split split in Enum.GetValues<Split>())
        {
            splitRows.Add(Count(split.ToString().ToLowerInvariant(), corpus.Documents.Where(d => splits[d.Id] == split)));
            windows.Add(ContextWindows.Cut(corpus.Stream(splits, split), contextSize).Count);
        }
        var genreRows = new List<DataCounts>();
        var perSplit = new List<IReadOnlyList<int>>();
        for (int g = 0; g < corpus.Genres.Count; g++)
        {
            DocumentInfo[] documents = corpus.Documents.Where(d => d.GenreId == g).ToArray();
            genreRows.Add(Count(corpus.Genres[g], documents));
            perSplit.Add(Enum.GetValues<Split>().Select(s => documents.Count(d => splits[d.Id] == s)).ToArray());
        }
        return new DataStats(splitRows, Count("total", corpus.Documents), genreRows, perSplit, contextSize, windows);
    }

    static DataCounts Count(string name, IEnumerable<DocumentInfo> documents)
    {
        DocumentInfo[] list = documents.ToArray();
        return new DataCounts(name, list.Length, list.Sum(d => d.SentenceCount), list.Sum(d => (long)d.WordCount), list.Sum(d => (long)d.TokenCount));
    }

    /// <summary>Two right-aligned tables: per split (with context windows), then per genre (with documents per split).</summary>
    /// <summary>The stage summary: counts per split and per genre, with windows per split.</summary>
    public JsonObject ToJson()
    {
        static JsonObject Counts(DataCounts c) => new()
        {
            ["documents"] = c.Documents,
            ["sentences"] = c.Sentences,
            ["words"] = c.Words,
            ["tokens"] = c.Tokens,
        };
        var splits = new JsonObject();
        for (int i = 0; i < Splits.Count; i++)
        {
            var row = Counts(Splits[i]);
            row["windows"] = WindowsPerSplit[i];
            splits[Splits[i].Name] = row;
        }
        var genres = new JsonObject();
        for (int g = 0; g < Genres.Count; g++)
        {
            var row = Counts(Genres[g]);
            row["documents_per_split"] = new JsonArray(GenreDocumentsPerSplit[g].Select(n => (JsonNode?)n).ToArray());
            genres[Genres[g].Name] = row;
        }
        return new JsonObject
        {
            ["total"] = Counts(Total),
            ["context_size"] = ContextSize,
            ["splits"] = splits,
            ["genres"] = genres,
        };
    }

    public string ToTable()
    {
        var rows = new List<string[]> { new[] { "split", "documents", "sentences", "words", "tokens", $"windows(T={ContextSize})" } };
        for (int i = 0; i < Splits.Count; i++) rows.Add([.. Cells(Splits[i]), N(WindowsPerSplit[i])]);
        rows.Add([.. Cells(Total), N(WindowsPerSplit.Sum())]);
        var text = new StringBuilder(Format(rows)).Append('\n');

        rows = [new[] { "genre", "documents", "sentences", "words", "tokens", "train", "val", "test" }];
        for (int g = 0; g < Genres.Count; g++) rows.Add([.. Cells(Genres[g]), .. GenreDocumentsPerSplit[g].Select(n => N(n))]);
        rows.Add([.. Cells(Total), .. Splits.Select(s => N(s.Documents))]);
        text.Append(Format(rows));
        return text.ToString();
    }

    static string[] Cells(DataCounts c) => [c.Name, N(c.Documents), N(c.Sentences), N(c.Words), N(c.Tokens)];

    static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    static string Format(List<string[]> rows)
    {
        int columns = rows[0].Length;
        int[] widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] row in rows)
        {
            text.Append(row[0].PadRight(widths[0]));
            for (int c = 1; c < columns; c++) text.Append("  ").Append(row[c].PadLeft(widths[c]));
            text.Append('\n');
        }
        return text.ToString();
    }
}
