// Brown tags to universal POS tags.

using TemporalSae.Data;
using TemporalSae.Data.Sources;

namespace TemporalSae.Tests.Data.Sources;

public class BrownTagsetTests
{
    [Theory]
    [InlineData("nn-tl", "NOUN")]
    [InlineData("np$", "NOUN")]
    [InlineData("vbd", "VERB")]
    [InlineData("bedz", "VERB")]
    [InlineData("hvd*", "VERB")]
    [InlineData("jj-tl", "ADJ")]
    [InlineData("pps+bez", "PRON")]
    [InlineData("at", "DET")]
    [InlineData("in-tl", "ADP")]
    [InlineData("cd", "NUM")]
    [InlineData("cs", "CONJ")]
    [InlineData("to", "PRT")]
    [InlineData("*", "ADV")]
    [InlineData("fw-nn", "NOUN")]
    [InlineData("``", ".")]
    [InlineData(".-hl", ".")]
    [InlineData("uh", "X")]
    [InlineData("none", "X")]
    public void Brown_tags_map_to_universal_tags(string brown, string universal) => Assert.Equal(universal, BrownTagset.Coarse(brown));

    [Fact]
    public void Every_tag_in_the_corpus_maps_and_most_words_are_not_X()
    {
        TokenizedCorpus corpus = BrownData.Data.Corpus;
        Assert.All(corpus.PosTags, t => Assert.Contains(BrownTagset.Coarse(t), BrownTagset.Universal));
        long tagged = corpus.Tokens.PosIds.Count(p => p != TokenizedCorpus.NoPos);
        long other = corpus.Tokens.PosIds.Count(p => p != TokenizedCorpus.NoPos && BrownTagset.Coarse(corpus.PosTags[p]) == "X");
        Assert.True(other < tagged / 100, $"{other} of {tagged} tagged tokens map to X");
        long nouns = corpus.Tokens.PosIds.Count(p => BrownTagset.Coarse(corpus.PosTags[p]) == "NOUN");
        Assert.InRange(nouns / (double)tagged, 0.2, 0.45);
    }
}
