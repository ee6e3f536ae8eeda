// Token spans index the original text whatever the tokenizer does to it (SentencePiece's '▁' and dummy prefix,
// collapsed whitespace, byte fallback), and every token's metadata is that of the character span it covers,
// checked against a brute-force lookup that shares no code with TokenizedCorpus.Tokenize.
using System.Text;
using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Tokenizers;

public class OffsetAlignmentTests
{
    // Words with an em dash, an accented letter, a digit and an emoji (a surrogate pair): all outside the tiny
    // vocabulary, so they come out as byte-fallback tokens.
    const string Text = "The cat sat on the mat. Then it ate  a café—and 9 fish😀!\nIn the end it slept.";

    static SentencePieceTextTokenizer SentencePiece(TempFolder folder, bool dummyPrefix = false, bool collapse = false)
    {
        TinyTokenizers.WriteSentencePiece(folder.File("tokenizer.model"), dummyPrefix, collapse);
        return SentencePieceTextTokenizer.Load(folder.File("tokenizer.model"));
    }

    [Fact]
    public void Sentencepiece_spans_index_the_original_text_and_cover_what_each_token_encodes()
    {
        using var folder = new TempFolder("tsae-spm-");
        SentencePieceTextTokenizer tokenizer = SentencePiece(folder);
        Assert.Equal(TinyTokenizers.SentencePieceBos, tokenizer.BosId);
        Assert.Equal("<bos>", tokenizer.BosToken);
        TextToken[] tokens = tokenizer.EncodeWithOffsets(Text);
        int byteTokens = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            TextToken t = tokens[i];
            Assert.True(t.Start < t.End, $"token {i} (id {t.Id}) has an empty span {t.Start}..{t.End}");
            Assert.True(i == 0 || t.Start >= tokens[i - 1].Start, $"token {i} starts before token {i - 1}");
            string span = Text[t.Start..t.End];
            if (IsByte(t.Id))
            {
                // Every byte token of a character spans that whole character (two UTF-16 units for the emoji).
                byteTokens++;
                Assert.Contains(ByteOf(t.Id), Encoding.UTF8.GetBytes(span));
                Assert.True(span.Length == 1 || char.IsSurrogatePair(span, 0), $"byte token {i} spans '{span}'");
            }
            else
            {
                Assert.Equal(Piece(tokenizer, t.Id).Replace(SentencePieceTextTokenizer.Space, ' '), span);
            }
        }
        Assert.Equal(Encoding.UTF8.GetByteCount("é—9😀!"), byteTokens);
        // Spans tile the text: each token starts where the previous one ended, bytes of one character aside.
        string covered = string.Concat(tokens.Where((t, i) => i == 0 || t.Start != tokens[i - 1].Start).Select(t => Text[t.Start..t.End]));
        Assert.Equal(Text, covered);
    }

    [Fact]
    public void A_dummy_prefix_and_collapsed_whitespace_map_back_to_the_original_characters()
    {
        using var folder = new TempFolder("tsae-spm-");
        SentencePieceTextTokenizer tokenizer = SentencePiece(folder, dummyPrefix: true, collapse: true);
        const string text = "  the  cat sat ";
        TextToken[] tokens = tokenizer.EncodeWithOffsets(text);
        foreach (TextToken t in tokens)
        {
            Assert.InRange(t.Start, 0, text.Length);
            Assert.InRange(t.End, t.Start, text.Length);
            string piece = Piece(tokenizer, t.Id).Replace(SentencePieceTextTokenizer.Space, ' ');
            // A piece's '▁' may stand for the inserted prefix, which covers nothing of the original.
            Assert.EndsWith(text[t.Start..t.End].TrimStart(), piece);
        }
        Assert.Equal("the", text[tokens[0].Start..tokens[0].End].Trim());
        Assert.Equal("at", text[tokens[^1].Start..tokens[^1].End].Trim());
    }

    [Fact]
    public void A_normaliser_that_rewrites_characters_is_refused_with_the_file_named()
    {
        var e = Assert.Throws<InvalidInputException>(() => NormalizedOffsets.Align("ﬁne", "fine", "/x/tokenizer.model"));
        Assert.Contains("/x/tokenizer.model", e.Message);
        Assert.Contains("data.tokenizer: gpt2", e.Message);
    }

    [Theory]
    [InlineData("sentencepiece")]
    [InlineData("gpt2_bpe")]
    public void Every_tokens_metadata_is_that_of_the_characters_it_covers(string kind)
    {
        using var folder = new TempFolder("tsae-align-");
        ITextTokenizer tokenizer = kind == "sentencepiece"
            ? SentencePiece(folder)
            : Gpt2BpeOf(folder);
        SourceDocument tagged = Tagged(Text);
        SourceDocument untagged = tagged with { Source = "sotu", Name = "sotu/1", Label = "x", Words = null };
        TokenizedCorpus corpus = TokenizedCorpus.Tokenize([tagged, untagged], tokenizer);
        Assert.Equal(tokenizer.BosId, corpus.BosId);

        foreach (DocumentInfo info in corpus.Documents)
        {
            SourceDocument document = info.Id == 0 ? tagged : untagged;
            TextToken[] tokens = tokenizer.EncodeWithOffsets(document.Text);
            Assert.Equal(tokens.Length, info.TokenCount);
            for (int i = 0; i < tokens.Length; i++)
            {
                int p = info.FirstToken + i;
                TextToken t = tokens[i];
                Assert.Equal(t.Id, corpus.Tokens.TokenIds[p]);
                Assert.Equal(info.Id, corpus.Tokens.DocumentIds[p]);
                Assert.Equal(info.LabelId, corpus.Tokens.LabelIds[p]);
                Assert.False(corpus.Tokens.Special[p]);
                // The sentence: the first that ends after the token starts (leading whitespace joins what follows).
                int sentence = Enumerable.Range(0, document.SentenceCount).FirstOrDefault(s => document.SentenceEnd[s] > t.Start, document.SentenceCount - 1);
                Assert.Equal(info.FirstSentence + sentence, corpus.Tokens.SentenceIds[p]);
                string expectedTag;
                if (document.Words is { } words)
                {
                    int word = Enumerable.Range(0, words.Count).FirstOrDefault(w => words.Start[w] < t.End && words.End[w] > t.Start, -1);
                    expectedTag = word < 0 ? TokenizedCorpus.NoPosTag : words.Tag[word];
                }
                else
                {
                    expectedTag = string.IsNullOrWhiteSpace(document.Text[t.Start..t.End]) ? TokenizedCorpus.NoPosTag : TokenizedCorpus.AbsentPosTag;
                }
                Assert.True(expectedTag == corpus.PosTags[corpus.Tokens.PosIds[p]],
                    $"{kind} token {i} '{document.Text[t.Start..t.End]}' ({t.Start}..{t.End}) has POS {corpus.PosTags[corpus.Tokens.PosIds[p]]}, expected {expectedTag}");
            }
        }

        // The bytes of "é" belong to the word "café", those of the emoji to "fish😀": none loses its tag.
        if (kind == "sentencepiece")
        {
            int cafe = Text.IndexOf("café", StringComparison.Ordinal);
            var inCafe = Enumerable.Range(0, corpus.Documents[0].TokenCount)
                .Where(i => tokenizer.EncodeWithOffsets(Text)[i] is var t && t.Start >= cafe && t.End <= cafe + 4).ToArray();
            Assert.True(inCafe.Length >= 3);
            Assert.All(inCafe, i => Assert.Equal("nn", corpus.PosTags[corpus.Tokens.PosIds[i]]));
        }
    }

    [Fact]
    public void Split_streams_and_windows_start_with_the_tokenizers_bos()
    {
        using var folder = new TempFolder("tsae-align-");
        SentencePieceTextTokenizer tokenizer = SentencePiece(folder);
        TokenizedCorpus corpus = TokenizedCorpus.Tokenize([Tagged(Text)], tokenizer);
        TokenMetadata stream = corpus.Stream([Split.Train], Split.Train);
        Assert.Equal(TinyTokenizers.SentencePieceBos, stream.TokenIds[0]);
        Assert.True(stream.Special[0]);
        ContextWindows windows = ContextWindows.Cut(stream, 8, corpus.BosId);
        Assert.All(Enumerable.Range(0, windows.Count), w => Assert.Equal(TinyTokenizers.SentencePieceBos, windows.Tokens.TokenIds[w * 8]));
        Assert.DoesNotContain(Gpt2Tokenizer.EndOfText, windows.Tokens.TokenIds);
    }

    static Gpt2Tokenizer Gpt2BpeOf(string folder)
    {
        TinyTokenizers.WriteGpt2Bpe(folder);
        return Gpt2Tokenizer.Load(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));
    }

    /// <summary>A Brown-like document: words are the maximal runs of letters, digits and symbols; every word tagged
    /// by its first character's kind; sentences end after '.', '!' or '\n'.</summary>
    static SourceDocument Tagged(string text)
    {
        var starts = new List<int>();
        var ends = new List<int>();
        var tags = new List<string>();
        for (int i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int start = i;
            bool punctuation = text[i] is '.' or '!' or '—';
            if (punctuation) i++;
            else while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('.' or '!' or '—')) i++;
            starts.Add(start);
            ends.Add(i);
            tags.Add(punctuation ? "." : char.IsDigit(text[start]) ? "cd" : "nn");
        }
        var sentenceStart = new List<int> { 0 };
        var sentenceEnd = new List<int>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] is '.' or '!' && i + 1 < text.Length)
            {
                sentenceEnd.Add(i + 1);
                sentenceStart.Add(i + 1);
            }
        sentenceEnd.Add(text.Length);
        return new SourceDocument("brown", "ca01", "news", text, [.. sentenceStart], [.. sentenceEnd],
            new TaggedWords([.. starts], [.. ends], [.. tags]), starts.Count, new Dictionary<string, string>());
    }

    static bool IsByte(int id) => id >= 4 && id < 4 + 256;

    static byte ByteOf(int id) => (byte)(id - 4);

    static string Piece(SentencePieceTextTokenizer tokenizer, int id) => tokenizer.PieceOf(id);

}
