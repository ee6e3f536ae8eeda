// Counts of documents, sentences, words and tokens per split, per source and per label, and their text table (`tsae data stats`).

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TemporalSae.Data;

/// <summary>
/// One row of counts. Words are Brown's tokens, punctuation included (the corpus's own count: 1,161,192 in all), and
/// for the untagged sources words and punctuation marks counted the same way (<see cref="Sources.SentenceSplitter.CountWords"/>);
/// tokens are the corpus tokenizer's tokens of the documents, without the BOS separators.
/// </summary>
public sealed record DataCounts(string Name, int Documents, int Sentences, long Words, long Tokens);

/// <summary>A group of documents (a source or a label) with its counts and its document count in each split.</summary>
public sealed record DataGroup(DataCounts Counts, string Source, IReadOnlyList<int> DocumentsPerSplit);

/// <summary>Per-split, per-source and per-label counts, with windows per split.</summary>
public sealed record DataStats(IReadOnlyList<DataCounts> Splits, DataCounts Total, IReadOnlyList<DataGroup> Sources, IReadOnlyList<DataGroup> Labels,
    int ContextSize, IReadOnlyList<int> WindowsPerSplit)
{
    public static DataStats Compute(TokenizedCorpus corpus, IReadOnlyList<Split> splits, int contextSize)
    {
        var splitRows = new List<DataCounts>();
        var windows = new List<int>();
        foreach (Split split in Enum.GetValues<Split>())
        {
            splitRows.Add(Count(split.ToString().ToLowerInvariant(), corpus.Documents.Where(d => splits[d.Id] == split)));
            windows.Add(ContextWindows.Cut(corpus.Stream(splits, split), contextSize, corpus.BosId).Count);
        }
        DataGroup Group(string name, string source, Func<DocumentInfo, bool> member)
        {
            DocumentInfo[] documents = corpus.Documents.Where(member).ToArray();
            return new DataGroup(Count(name, documents), source, Enum.GetValues<Split>().Select(s => documents.Count(d => splits[d.Id] == s)).ToArray());
        }
        var sources = corpus.Sources.Select((name, id) => Group(name, name, d => d.SourceId == id)).ToArray();
        var labels = corpus.Labels.Select((name, id) => Group(name, corpus.Sources[corpus.LabelSources[id]], d => d.LabelId == id)).ToArray();
        return new DataStats(splitRows, Count("total", corpus.Documents), sources, labels, contextSize, windows);
    }

    static DataCounts Count(string name, IEnumerable<DocumentInfo> documents)
    {
        DocumentInfo[] list = documents.ToArray();
        return new DataCounts(name, list.Length, list.Sum(d => d.SentenceCount), list.Sum(d => (long)d.WordCount), list.Sum(d => (long)d.TokenCount));
    }

    /// <summary>The stage summary: counts per split (with windows), per source and per label (with documents per split).</summary>
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
        JsonObject Groups(IReadOnlyList<DataGroup> groups, bool withSource)
        {
            var json = new JsonObject();
            foreach (DataGroup group in groups)
            {
                var row = Counts(group.Counts);
                if (withSource) row["source"] = group.Source;
                row["documents_per_split"] = new JsonArray(group.DocumentsPerSplit.Select(n => (JsonNode?)n).ToArray());
                json[group.Counts.Name] = row;
            }
            return json;
        }
        return new JsonObject
        {
            ["total"] = Counts(Total),
            ["context_size"] = ContextSize,
            ["splits"] = splits,
            ["sources"] = Groups(Sources, withSource: false),
            ["labels"] = Groups(Labels, withSource: true),
        };
    }

    /// <summary>Right-aligned tables: per split (with context windows), per source and per label (with documents per split).</summary>
    public string ToTable()
    {
        var rows = new List<string[]> { new[] { "split", "documents", "sentences", "words", "tokens", $"windows(T={ContextSize})" } };
        for (int i = 0; i < Splits.Count; i++) rows.Add([.. Cells(Splits[i]), N(WindowsPerSplit[i])]);
        rows.Add([.. Cells(Total), N(WindowsPerSplit.Sum())]);
        var text = new StringBuilder(Format(rows));

        foreach (var (title, groups) in new[] { ("source", Sources), ("label", Labels) })
        {
            rows = [new[] { title, "documents", "sentences", "words", "tokens", "train", "val", "test" }];
            foreach (DataGroup group in groups) rows.Add([.. Cells(group.Counts), .. group.DocumentsPerSplit.Select(n => N(n))]);
            rows.Add([.. Cells(Total), .. Splits.Select(s => N(s.Documents))]);
            text.Append('\n').Append(Format(rows));
        }
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
