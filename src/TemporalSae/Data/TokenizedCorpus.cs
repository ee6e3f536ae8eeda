// The Brown Corpus as GPT-2 tokens, each carrying document, sentence, genre, POS tag and special flag; split streams
// are built from it by joining documents with <|endoftext|>.

using TemporalSae.Infrastructure;
using TemporalSae.Tokenizers;

namespace TemporalSae.Data;

/// <summary>
/// A document's place in <see cref="TokenizedCorpus.Tokens"/> ([FirstToken, FirstToken + TokenCount)) and in the
/// global sentence numbering ([FirstSentence, FirstSentence + SentenceCount)).
/// </summary>
public sealed record DocumentInfo(int Id, string Name, int GenreId, int FirstToken, int TokenCount, int FirstSentence, int SentenceCount, int WordCount);

/// <summary>
/// Every document's tokens in corpus order, concatenated without separators. Token-to-word rule: a token takes the
/// POS tag and sentence of the first word whose characters it overlaps (so " Jury" gets Jury's tag; a token
/// spanning two words, e.g. '."', gets the first word's). A token overlapping no word (whitespace only, e.g. the
/// "\n" between paragraphs) gets POS "none" and the sentence of the next word: GPT-2 attaches leading whitespace
/// to what follows. Sentence ids are global (0.. in corpus order); document ids are cats.txt positions.
/// </summary>
public sealed class TokenizedCorpus
{
    /// <summary>POS id of special tokens and tokens that overlap no word.</summary>
    public const short NoPos = 0;

    public const string NoPosTag = "none";

    internal TokenizedCorpus(string sourceKey, IReadOnlyList<string> genres, IReadOnlyList<string> posTags,
        IReadOnlyList<DocumentInfo> documents, TokenMetadata tokens)
    {
        SourceKey = sourceKey;
        Genres = genres;
        PosTags = posTags;
        Documents = documents;
        Tokens = tokens;
    }

    /// <summary>Content hash of the input files (see <see cref="DataFiles.ContentKey"/>), or "" when not given.</summary>
    public string SourceKey { get; }
    public IReadOnlyList<string> Genres { get; }

    /// <summary>Brown tags in order of first appearance; index 0 is "none".</summary>
    public IReadOnlyList<string> PosTags { get; }
    public IReadOnlyList<DocumentInfo> Documents { get; }
    public TokenMetadata Tokens { get; }

    public int SentenceCount => Documents.Sum(d => d.SentenceCount);
    public long WordCount => Documents.Sum(d => (long)d.WordCount);

    public static TokenizedCorpus Tokenize(BrownCorpus corpus, Gpt2Tokenizer tokenizer, string sourceKey = "")
    {
        if (corpus.Genres.Count > short.MaxValue) throw new InvalidInputException("more genres than the token format can hold");
        var posTags = new List<string> { NoPosTag };
        var posIds = new Dictionary<string, short>(StringComparer.Ordinal) { [NoPosTag] = NoPos };
        var perDocument = new TokenMetadata[corpus.Documents.Count];
        var documents = new List<DocumentInfo>(corpus.Documents.Count);
        int firstToken = 0, firstSentence = 0;
        for (int d = 0; d < corpus.Documents.Count; d++)
        {
            BrownDocument document = corpus.Documents[d];
            RebuiltText text = TextRebuilder.Rebuild(document.Paragraphs);
            short[] wordPos = document.Sentences.SelectMany(s => s.Words).Select(w => PosId(w.Tag)).ToArray();
            TextToken[] tokens = tokenizer.EncodeWithOffsets(text.Text);
            var meta = TokenMetadata.Empty(tokens.Length);
            int word = 0;
            for (int t = 0; t < tokens.Length; t++)
            {
                // Words and tokens both advance left to right; skip words that end before this token starts.
                while (word < wordPos.Length && text.WordEnd[word] <= tokens[t].Start) word++;
                bool overlaps = word < wordPos.Length && text.WordStart[word] < tokens[t].End;
                int sentenceWord = word < wordPos.Length ? word : wordPos.Length - 1;
                int sentence = sentenceWord >= 0 ? text.WordSentence[sentenceWord] : 0;
                meta.Set(t, tokens[t].Id, d, firstSentence + sentence, (short)document.GenreId,
                    overlaps ? wordPos[word] : NoPos, special: false);
            }
            perDocument[d] = meta;
            int sentences = document.SentenceCount;
            documents.Add(new DocumentInfo(d, document.Name, document.GenreId, firstToken, tokens.Length, firstSentence, sentences, wordPos.Length));
            firstToken += tokens.Length;
            firstSentence += sentences;
        }

        var all = TokenMetadata.Empty(firstToken);
        foreach (DocumentInfo info in documents) perDocument[info.Id].CopyTo(0, all, info.FirstToken, info.TokenCount);
        return new TokenizedCorpus(sourceKey, corpus.Genres.ToArray(), posTags, documents, all);

        short PosId(string tag)
        {
            if (posIds.TryGetValue(tag, out short id)) return id;
            if (posTags.Count > short.MaxValue) throw new InvalidInputException("more POS tags than the token format can hold");
            id = (short)posTags.Count;
            posTags.Add(tag);
            posIds.Add(tag, id);
            return id;
        }
    }

    /// <summary>The split of each document (indexed by document id), see <see cref="DocumentSplit"/>.</summary>
    public Split[] AssignSplits(double trainFraction, double valFraction, long seed) =>
        DocumentSplit.Assign(Documents.Select(d => d.Name).ToArray(), Documents.Select(d => d.GenreId).ToArray(), trainFraction, valFraction, seed);

    /// <summary>
    /// The token stream of one split: its documents in corpus order, each preceded by &lt;|endoftext|&gt; (special,
    /// POS "none", with the document, first sentence and genre of the document it opens).
    /// </summary>
    public TokenMetadata Stream(IReadOnlyList<Split> splits, Split which)
    {
        if (splits.Count != Documents.Count) throw new ArgumentException($"expected {Documents.Count} split assignments, got {splits.Count}");
        DocumentInfo[] chosen = Documents.Where(d => splits[d.Id] == which).ToArray();
        var stream = TokenMetadata.Empty(chosen.Sum(d => d.TokenCount + 1));
        int position = 0;
        foreach (DocumentInfo d in chosen)
        {
            stream.Set(position++, Gpt2Tokenizer.EndOfText, d.Id, d.FirstSentence, (short)d.GenreId, NoPos, special: true);
            Tokens.CopyTo(d.FirstToken, stream, position, d.TokenCount);
            position += d.TokenCount;
        }
        return stream;
    }

    /// <summary>Writes the corpus in the checksummed binary format of <see cref="TokenizedCorpusFile"/>, atomically.</summary>
    public void Save(string path) => TokenizedCorpusFile.Save(this, path);

    /// <summary>Reads and verifies a file written by <see cref="Save"/>.</summary>
    public static TokenizedCorpus Load(string path) => TokenizedCorpusFile.Load(path);
}
