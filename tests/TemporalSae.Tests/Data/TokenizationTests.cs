// GPT-2 tokenisation of the rebuilt Brown text and the metadata every token carries.

using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Data;

public class TokenizationTests
{
    [Fact]
    public void Tokenizer_gives_gpt2_ids()
    {
        Assert.Equal([15496, 995], BrownData.Gpt2.EncodeToIds("Hello world"));
        Assert.Equal([50256], BrownData.Gpt2.EncodeToIds("<|endoftext|>"));
    }

    [Fact]
    public void First_sentence_of_ca01_has_exact_tokens_and_metadata()
    {
        TokenizedCorpus corpus = BrownData.Data.Corpus;
        DocumentInfo ca01 = corpus.Documents[0];
        Assert.Equal("ca01", ca01.Name);
        Assert.Equal("news", corpus.Labels[ca01.LabelId]);
        TokenMetadata tokens = corpus.Tokens.Slice(ca01.FirstToken, ca01.TokenCount);
        int length = Array.FindIndex(tokens.SentenceIds, s => s != 0);

        string[] pieces = tokens.TokenIds.Take(length).Select(id => BrownData.Gpt2.Decode([id])).ToArray();
        string[] tags = tokens.PosIds.Take(length).Select(p => corpus.PosTags[p]).ToArray();
        Assert.Equal(
            ["The", " Fulton", " County", " Grand", " Jury", " said", " Friday", " an", " investigation", " of", " Atlanta", "'s",
             " recent", " primary", " election", " produced", " \"", "no", " evidence", "\"", " that", " any", " irregularities",
             " took", " place", "."],
            pieces);
        Assert.Equal(
            ["at", "np-tl", "nn-tl", "jj-tl", "nn-tl", "vbd", "nr", "at", "nn", "in", "np$", "np$",
             "jj", "nn", "nn", "vbd", "``", "at", "nn", "''", "cs", "dti", "nns",
             "vbd", "nn", "."],
            tags);
        Assert.Equal(
            // Each piece is one entry of encoder.json ("Ġ" = space): looked up there independently of the tokenizer.
            [464, 44373, 3418, 5675, 48705, 531, 3217, 281, 3645, 286, 9371, 338, 2274, 4165, 3071, 4635, 366, 3919, 2370, 1,
             326, 597, 48302, 1718, 1295, 13],
            tokens.TokenIds.Take(length));
        Assert.All(tokens.DocumentIds.Take(length), d => Assert.Equal(0, d));
        Assert.All(tokens.LabelIds.Take(length), g => Assert.Equal(ca01.LabelId, g));
        Assert.All(tokens.Special.Take(length), Assert.False);
        Assert.All(tokens.SentenceIds.Take(length), s => Assert.Equal(0, s));
        // The next sentence opens a new paragraph: the newline token has no tag and belongs to what follows it.
        Assert.Equal("\n", BrownData.Gpt2.Decode([tokens.TokenIds[length]]));
        Assert.Equal(TokenizedCorpus.NoPos, tokens.PosIds[length]);
        Assert.Equal(1, tokens.SentenceIds[length]);
        Assert.Equal("The", BrownData.Gpt2.Decode([tokens.TokenIds[length + 1]]));
    }

    [Fact]
    public void Decoded_tokens_reproduce_the_rebuilt_text_and_only_whitespace_tokens_lack_a_tag()
    {
        TokenizedCorpus corpus = BrownData.Data.Corpus;
        for (int d = 0; d < 3; d++)
        {
            DocumentInfo info = corpus.Documents[d];
            string text = TextRebuilder.Rebuild(BrownData.Corpus.Documents[d].Paragraphs).Text;
            TokenMetadata tokens = corpus.Tokens.Slice(info.FirstToken, info.TokenCount);
            Assert.Equal(text, BrownData.Gpt2.Decode(tokens.TokenIds));
            for (int t = 0; t < tokens.Count; t++)
            {
                bool whitespace = string.IsNullOrWhiteSpace(BrownData.Gpt2.Decode([tokens.TokenIds[t]]));
                Assert.Equal(whitespace, tokens.PosIds[t] == TokenizedCorpus.NoPos);
            }
        }
    }

    [Fact]
    public void Split_streams_join_documents_with_endoftext_and_sentence_ids_are_global()
    {
        PreparedData data = BrownData.Data;
        TokenMetadata train = data.Stream(Split.Train);
        int[] separators = Enumerable.Range(0, train.Count).Where(i => train.Special[i]).ToArray();
        Assert.Equal(data.Splits.Count(s => s == Split.Train), separators.Length);
        Assert.Equal(0, separators[0]);
        foreach (int i in separators)
        {
            Assert.Equal(Gpt2Tokenizer.EndOfText, train.TokenIds[i]);
            Assert.Equal(TokenizedCorpus.NoPos, train.PosIds[i]);
            Assert.Equal(train.DocumentIds[i + 1], train.DocumentIds[i]);
            Assert.Equal(train.SentenceIds[i + 1], train.SentenceIds[i]);
        }
        Assert.Equal(data.Corpus.Documents.Where(d => data.Splits[d.Id] == Split.Train).Sum(d => d.TokenCount) + separators.Length, train.Count);
        DocumentInfo last = data.Corpus.Documents[^1];
        Assert.Equal(57_339, data.Corpus.Tokens.SentenceIds[last.FirstToken + last.TokenCount - 1]);
    }
}
