// Every chosen source's documents as tokens of the corpus tokenizer (GPT-2's BPE or the subject model's own), each
// carrying document, sentence, label, POS tag and special flag; split streams join documents with the tokenizer's BOS.

using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Tokenizers;

namespace TemporalSae.Data;

/// <summary>
/// A document's source and label (indices into <see cref="TokenizedCorpus.Sources"/> and
/// <see cref="TokenizedCorpus.Labels"/>), its place in <see cref="TokenizedCorpus.Tokens"/> ([FirstToken,
/// FirstToken + TokenCount)) and in the global sentence numbering ([FirstSentence, FirstSentence + SentenceCount)),
/// and its attributes (year, president, era, chapter title, genre).
/// </summary>
public sealed record DocumentInfo(int Id, string Name, int SourceId, int LabelId, int FirstToken, int TokenCount, int FirstSentence, int SentenceCount,
    int WordCount, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Every document's tokens in corpus order, concatenated without separators. Token-to-text rule: a token takes the
/// sentence of the first sentence that ends after the token starts, and (Brown) the POS tag of the first word whose
/// characters it overlaps (so " Jury" gets Jury's tag; a token spanning two words, e.g. '."', gets the first word's).
/// A token overlapping no word (whitespace only, e.g. the "\n" between paragraphs) gets POS "none" and, by the same
/// rule, the sentence that follows: GPT-2 and SentencePiece ('▁') attach leading whitespace to what follows. Tokens of an untagged source
/// get POS "absent". Labels are numbered in order of first appearance, sources in registry order, so Brown's ids
/// are the same whichever other sources a run adds.
/// </summary>
public sealed class TokenizedCorpus
{
    /// <summary>POS id of special tokens and tokens that overlap no word.</summary>
    public const short NoPos = 0;

    /// <summary>POS id of the tokens of a source without POS tags (every source but Brown).</summary>
    public const short AbsentPos = 1;

    public const string NoPosTag = "none";
    public const string AbsentPosTag = "absent";

    internal TokenizedCorpus(string sourceKey, IReadOnlyList<string> sources, IReadOnlyList<string> labels, IReadOnlyList<int> labelSources,
        IReadOnlyList<string> posTags, IReadOnlyList<DocumentInfo> documents, TokenMetadata tokens, int bosId = Gpt2Tokenizer.EndOfText)
    {
        BosId = bosId;
        SourceKey = sourceKey;
        Sources = sources;
        Labels = labels;
        LabelSources = labelSources;
        PosTags = posTags;
        Documents = documents;
        Tokens = tokens;
    }

    /// <summary>Content hash of the input files (see <see cref="DataFiles.ContentKey"/>), or "" when not given.</summary>
    public string SourceKey { get; }

    /// <summary>The sources' keys ("brown", "sotu", "moby_dick") in registry order.</summary>
    public IReadOnlyList<string> Sources { get; }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>The source id of each label.</summary>
    public IReadOnlyList<int> LabelSources { get; }

    /// <summary>"none", "absent", then Brown's tags in order of first appearance.</summary>
    public IReadOnlyList<string> PosTags { get; }
    public IReadOnlyList<DocumentInfo> Documents { get; }
    public TokenMetadata Tokens { get; }

    /// <summary>
    /// The tokenizer's BOS id, which opens every document in a split stream and every context window. Not in the token
    /// file (whose format predates it): the data stage records it beside the file when it is not GPT-2's.
    /// </summary>
    public int BosId { get; }

    /// <summary>The same corpus with another BOS id (the one recorded beside its token file).</summary>
    public TokenizedCorpus WithBosId(int bosId) => new(SourceKey, Sources, Labels, LabelSources, PosTags, Documents, Tokens, bosId);

    public int SentenceCount => Documents.Sum(d => d.SentenceCount);
    public long WordCount => Documents.Sum(d => (long)d.WordCount);

    /// <summary>Whether a POS id is a real tag (not "none" and not "absent").</summary>
    public static bool IsTagged(short posId) => posId > AbsentPos;

    public static TokenizedCorpus Tokenize(IReadOnlyList<SourceDocument> sourceDocuments, ITextTokenizer tokenizer, string sourceKey = "")
    {
        var posTags = new List<string> { NoPosTag, AbsentPosTag };
        var posIds = new Dictionary<string, short>(StringComparer.Ordinal) { [NoPosTag] = NoPos, [AbsentPosTag] = AbsentPos };
        var sources = TextSources.All.Select(s => s.Key).Where(k => sourceDocuments.Any(d => d.Source == k)).ToList();
        var labels = new List<string>();
        var labelSources = new List<int>();
        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var perDocument = new TokenMetadata[sourceDocuments.Count];
        var documents = new List<DocumentInfo>(sourceDocuments.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        int firstToken = 0, firstSentence = 0;
        for (int d = 0; d < sourceDocuments.Count; d++)
        {
            SourceDocument document = sourceDocuments[d];
            if (!names.Add(document.Name)) throw new InvalidInputException($"two documents are named `{document.Name}`; document names must be unique.");
            int sourceId = sources.IndexOf(document.Source);
            if (sourceId < 0) throw new InvalidInputException($"document {document.Name}: `{document.Source}` is not a known text source.");
            int labelId = LabelId(document.Label, sourceId, document.Name);
            TextToken[] tokens = tokenizer.EncodeWithOffsets(document.Text);
            var meta = TokenMetadata.Empty(tokens.Length);
            short[]? wordPos = document.Words?.Tag.Select(PosId).ToArray();
            int word = 0, sentence = 0;
            for (int t = 0; t < tokens.Length; t++)
            {
                // Sentences, words and tokens all advance left to right.
                while (sentence < document.SentenceCount - 1 && document.SentenceEnd[sentence] <= tokens[t].Start) sentence++;
                short pos = AbsentPos;
                if (document.Words is { } words)
                {
                    while (word < words.Count && words.End[word] <= tokens[t].Start) word++;
                    pos = word < words.Count && words.Start[word] < tokens[t].End ? wordPos![word] : NoPos;
                }
                else if (string.IsNullOrWhiteSpace(document.Text[tokens[t].Start..tokens[t].End]))
                {
                    pos = NoPos;
                }
                meta.Set(t, tokens[t].Id, d, firstSentence + sentence, (short)labelId, pos, special: false);
            }
            perDocument[d] = meta;
            documents.Add(new DocumentInfo(d, document.Name, sourceId, labelId, firstToken, tokens.Length, firstSentence, document.SentenceCount,
                document.WordCount, document.Attributes));
            firstToken += tokens.Length;
            firstSentence += document.SentenceCount;
        }

        var all = TokenMetadata.Empty(firstToken);
        foreach (DocumentInfo info in documents) perDocument[info.Id].CopyTo(0, all, info.FirstToken, info.TokenCount);
        return new TokenizedCorpus(sourceKey, sources, labels, labelSources, posTags, documents, all, tokenizer.BosId);

        int LabelId(string label, int sourceId, string document)
        {
            if (labelIds.TryGetValue(label, out int id))
            {
                if (labelSources[id] != sourceId)
                    throw new InvalidInputException($"document {document}: label `{label}` is already a label of source {sources[labelSources[id]]}; labels must be unique to a source.");
                return id;
            }
            if (labels.Count >= short.MaxValue) throw new InvalidInputException("more labels than the token format can hold");
            labelIds.Add(label, labels.Count);
            labels.Add(label);
            labelSources.Add(sourceId);
            return labels.Count - 1;
        }

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
        DocumentSplit.Assign(Documents.Select(d => d.Name).ToArray(), Documents.Select(d => d.LabelId).ToArray(), trainFraction, valFraction, seed);

    /// <summary>
    /// The token stream of one split: its documents in corpus order, each preceded by the BOS id (special,
    /// POS "none", with the document, first sentence and label of the document it opens).
    /// </summary>
    public TokenMetadata Stream(IReadOnlyList<Split> splits, Split which)
    {
        if (splits.Count != Documents.Count) throw new ArgumentException($"expected {Documents.Count} split assignments, got {splits.Count}");
        DocumentInfo[] chosen = Documents.Where(d => splits[d.Id] == which).ToArray();
        var stream = TokenMetadata.Empty(chosen.Sum(d => d.TokenCount + 1));
        int position = 0;
        foreach (DocumentInfo d in chosen)
        {
            stream.Set(position++, BosId, d.Id, d.FirstSentence, (short)d.LabelId, NoPos, special: true);
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
