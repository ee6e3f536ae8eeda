// The State of the Union and Moby-Dick sources: what the packages hold, how tokens are labelled, how every source
// reaches every split, and how bad input is reported.

using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Data.Sources;

public class TextSourcesTests
{
    [Fact]
    public void State_of_the_union_has_233_addresses_with_year_president_party_and_era()
    {
        IReadOnlyList<SourceDocument> addresses = SotuAddresses.Load(BrownData.FolderOf(TextSources.Sotu));
        Assert.Equal(233, addresses.Count);
        SourceDocument first = addresses[0];
        Assert.Equal("sotu/1790_george_washington", first.Name);
        Assert.Equal("no_party", first.Label);
        Assert.Equal(new Dictionary<string, string> { ["year"] = "1790", ["president"] = "George Washington", ["party"] = "none", ["era"] = "1790-1849" },
            first.Attributes);
        Assert.Equal(8, addresses.Select(a => a.Label).Distinct().Count());
        Assert.Equal("republican", addresses.Last(a => a.Attributes["year"] == "2008").Label);
        Assert.All(addresses, a => Assert.True(a.SentenceCount > 10 && a.Words is null));
    }

    [Fact]
    public void Moby_dick_has_its_chapters_in_order_with_typographic_punctuation_made_ascii()
    {
        IReadOnlyList<SourceDocument> chapters = MobyDick.Load(BrownData.FolderOf(TextSources.MobyDick));
        Assert.Equal(138, chapters.Count); // etymology, extracts, 135 chapters, epilogue
        Assert.Equal(["moby_dick/etymology", "moby_dick/extracts", "moby_dick/chapter_001"], chapters.Take(3).Select(c => c.Name));
        Assert.Equal("moby_dick/epilogue", chapters[^1].Name);
        SourceDocument one = chapters[2];
        Assert.Equal("Loomings.", one.Attributes["title"]);
        Assert.StartsWith("Call me Ishmael. Some years ago--never mind how long precisely--having", one.Text);
        Assert.Equal("Call me Ishmael.", one.Text[one.SentenceStart[0]..one.SentenceEnd[0]]);
        Assert.All(chapters, c => Assert.DoesNotContain(c.Text, ch => ch is '\u2014' or '\u2019' or '\u201C' or '\r'));
    }

    [Fact]
    public void Every_source_and_label_with_three_documents_reaches_every_split_and_only_brown_has_pos_tags()
    {
        PreparedData data = BrownData.AllSources;
        TokenizedCorpus corpus = data.Corpus;
        Assert.Equal(["brown", "sotu", "moby_dick"], corpus.Sources);
        Assert.Equal(BrownData.Data.Corpus.Labels, corpus.Labels.Take(15));
        for (int label = 0; label < corpus.Labels.Count; label++)
        {
            var splits = corpus.Documents.Where(d => d.LabelId == label).Select(d => data.Splits[d.Id]).ToArray();
            if (splits.Length >= 3) Assert.Equal(3, splits.Distinct().Count());
        }
        // Brown's split does not depend on which other sources a run adds.
        var brownAlone = BrownData.Data;
        Assert.Equal(brownAlone.Splits, data.Splits.Take(500));

        TokenMetadata tokens = corpus.Tokens;
        for (int i = 0; i < tokens.Count; i += 97)
        {
            DocumentInfo document = corpus.Documents[tokens.DocumentIds[i]];
            Assert.Equal(document.LabelId, tokens.LabelIds[i]);
            bool brown = corpus.Sources[document.SourceId] == "brown";
            if (brown) Assert.NotEqual(TokenizedCorpus.AbsentPos, tokens.PosIds[i]);
            else Assert.True(tokens.PosIds[i] is TokenizedCorpus.AbsentPos or TokenizedCorpus.NoPos);
        }
    }

    [Fact]
    public void Sentence_ids_advance_through_an_address_in_text_order()
    {
        TokenizedCorpus corpus = BrownData.AllSources.Corpus;
        DocumentInfo address = corpus.Documents.First(d => d.Name == "sotu/1790_george_washington");
        int[] sentences = corpus.Tokens.SentenceIds[address.FirstToken..(address.FirstToken + address.TokenCount)];
        Assert.Equal(address.FirstSentence, sentences[0]);
        Assert.Equal(address.FirstSentence + address.SentenceCount - 1, sentences[^1]);
        Assert.True(sentences.Zip(sentences.Skip(1)).All(p => p.Second == p.First || p.Second == p.First + 1));
    }

    [Fact]
    public void A_broken_address_file_is_named_with_what_is_wrong()
    {
        using var folder = new TempFolder("tsae-sotu-");
        File.WriteAllText(Path.Combine(folder, "1790_george_washington_n.json"), "{\"year\": 1790, \"name\": \"George Washington\", \"party\": 3, \"text\": \"x\"}");
        var error = Assert.Throws<InvalidInputException>(() => SotuAddresses.Load(folder));
        Assert.Contains("1790_george_washington_n.json", error.Message);
        Assert.Contains("\"party\" must be a string", error.Message);

        File.WriteAllText(Path.Combine(folder, "1790_george_washington_n.json"), "{\"year\": 1790,");
        Assert.Contains("is not valid JSON", Assert.Throws<InvalidInputException>(() => SotuAddresses.Load(folder)).Message);
    }

    [Fact]
    public void Unknown_or_repeated_sources_are_refused_with_the_known_ones()
    {
        var unknown = Assert.Throws<InvalidInputException>(() => TextSources.Chosen(["brown", "wikipedia"]));
        Assert.Contains("`wikipedia` is not a known text source", unknown.Message);
        Assert.Contains("brown, sotu, moby_dick", unknown.Message);
        Assert.Contains("twice", Assert.Throws<InvalidInputException>(() => TextSources.Chosen(["sotu", "sotu"])).Message);
        Assert.Equal([TextSources.Brown, TextSources.MobyDick], TextSources.Chosen(["moby_dick", "brown"]));
    }
}
