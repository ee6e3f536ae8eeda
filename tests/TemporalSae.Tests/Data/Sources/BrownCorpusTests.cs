// The parsed Brown Corpus has the published counts (NLTK's brown reader gives the same numbers).

using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Data.Sources;

public class BrownCorpusTests
{
    [Fact]
    public void Corpus_has_500_documents_15_genres_and_the_published_sizes()
    {
        BrownCorpus corpus = BrownData.Corpus;
        Assert.Equal(500, corpus.Documents.Count);
        Assert.Equal(15, corpus.Genres.Count);
        Assert.Equal(57_340, corpus.Documents.Sum(d => d.SentenceCount));
        Assert.Equal(15_667, corpus.Documents.Sum(d => d.Paragraphs.Count));
        Assert.Equal(1_161_192, corpus.Documents.Sum(d => d.WordCount));
        Assert.Equal(["news", "editorial", "reviews"], corpus.Genres.Take(3));
        Assert.Equal(44, corpus.Documents.Count(d => d.Genre == "news"));
        Assert.Equal(6, corpus.Documents.Count(d => d.Genre == "science_fiction"));
        Assert.Equal("ca01", corpus.Documents[0].Name);
    }

    [Fact]
    public void Words_containing_slashes_keep_them_and_take_the_last_field_as_tag()
    {
        using var folder = new TempFolder("tsae-brown-");
        File.WriteAllText(Path.Combine(folder, "doc"), "\n\n\tAdd/vb 1-1/2/cd cups/nns ./.\n\tStir/vb ./.\n\n\n\tServe/vb ./.\n");
        var paragraphs = BrownCorpus.ParseDocument(Path.Combine(folder, "doc"), []);
        Assert.Equal(2, paragraphs.Count);
        Assert.Equal(2, paragraphs[0].Sentences.Count);
        Assert.Equal(new BrownWord("1-1/2", "cd"), paragraphs[0].Sentences[0].Words[1]);
    }

    [Fact]
    public void A_token_without_a_tag_is_rejected_with_file_and_line()
    {
        using var folder = new TempFolder("tsae-brown-");
        File.WriteAllText(Path.Combine(folder, "doc"), "\tGood/jj\n\tbroken token/nn\n");
        var error = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => BrownCorpus.ParseDocument(Path.Combine(folder, "doc"), []));
        Assert.Contains("doc:2", error.Message);
        Assert.Contains("'broken'", error.Message);
    }
}
