// Readable text from Brown's tokens: quote and punctuation spacing, sentence and paragraph joining, word offsets.

using TemporalSae.Data;
using TemporalSae.Data.Sources;

namespace TemporalSae.Tests.Data.Sources;

public class TextRebuilderTests
{
    static BrownSentence S(string tokens) =>
        new(tokens.Split(' ').Select(t => new BrownWord(t[..t.LastIndexOf('/')], t[(t.LastIndexOf('/') + 1)..])).ToArray());

    static BrownParagraph P(params string[] sentences) => new(sentences.Select(S).ToArray());

    [Theory]
    [InlineData("He/pps said/vbd ,/, ``/`` yes/rb ''/'' ./.", "He said, \"yes\".")]
    [InlineData("(/( see/vb below/rb )/) ;/. ok/uh ?/. !/.", "(see below); ok?!")]
    [InlineData("it/pps was/bedz '/' pro/jj '/' not/* '/' con/jj '/' :/: fine/jj", "it was 'pro' not 'con': fine")]
    [InlineData("`/` quoted/vbn '/' text/nn", "'quoted' text")]
    [InlineData("Atlanta's/np$ mayor/nn --/-- Allen/np", "Atlanta's mayor -- Allen")]
    public void Tokens_are_joined_with_the_spacing_rules(string tokens, string expected)
    {
        Assert.Equal(expected, TextRebuilder.Rebuild([P(tokens)]).Text);
    }

    [Fact]
    public void Sentences_are_joined_by_a_space_and_paragraphs_by_a_newline()
    {
        RebuiltText text = TextRebuilder.Rebuild([P("One/cd ./.", "Two/cd ./."), P("Three/cd !/.")]);
        Assert.Equal("One. Two.\nThree!", text.Text);
        Assert.Equal([0, 0, 1, 1, 2, 2], text.WordSentence);
    }

    [Fact]
    public void Word_offsets_point_at_each_words_surface_form()
    {
        RebuiltText text = TextRebuilder.Rebuild([P("``/`` Hi/uh ,/, there/rb ''/''", "Bye/uh ./.")]);
        Assert.Equal("\"Hi, there\" Bye.", text.Text);
        string[] surfaces = Enumerable.Range(0, text.WordStart.Length).Select(i => text.Text[text.WordStart[i]..text.WordEnd[i]]).ToArray();
        Assert.Equal(["\"", "Hi", ",", "there", "\"", "Bye", "."], surfaces);
    }
}
