// The cached token file: round trip, and truncation or alteration detected with a clear error.

using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Data;

public sealed class TokenizedCorpusFileTests : IDisposable
{
    readonly TempFolder folder = new("tsae-tokens-");

    public void Dispose() => folder.Dispose();

    static TokenizedCorpus Small()
    {
        var tokens = new TokenMetadata([464, 37946, 13, 15496, 995], [0, 0, 0, 1, 1], [0, 0, 0, 1, 1], [0, 0, 0, 1, 1],
            [1, 2, 3, 4, 0], [false, false, false, false, false]);
        var attributes = new Dictionary<string, string> { ["genre"] = "news", ["year"] = "1961" };
        DocumentInfo[] documents = [new(0, "ca01", 0, 0, 0, 3, 0, 1, 3, attributes), new(1, "sotu/1790_george_washington", 1, 1, 3, 2, 1, 1, 2, new Dictionary<string, string>())];
        return new TokenizedCorpus("key", ["brown", "sotu"], ["news", "no_party"], [0, 1], ["none", "absent", "at", "np", "."], documents, tokens);
    }

    [Fact]
    public void Saved_corpus_loads_back_identically()
    {
        string path = Path.Combine(folder, "c.tokens");
        Small().Save(path);
        TokenizedCorpus loaded = TokenizedCorpus.Load(path);
        Assert.Equal("key", loaded.SourceKey);
        Assert.Equal(["brown", "sotu"], loaded.Sources);
        Assert.Equal(["news", "no_party"], loaded.Labels);
        Assert.Equal([0, 1], loaded.LabelSources);
        Assert.Equal(Small().Documents.Select(d => d with { Attributes = null! }), loaded.Documents.Select(d => d with { Attributes = null! }));
        Assert.Equal(Small().Documents[0].Attributes, loaded.Documents[0].Attributes);
        Assert.Equal(Small().Tokens.TokenIds, loaded.Tokens.TokenIds);
        Assert.Equal(Small().Tokens.PosIds, loaded.Tokens.PosIds);
        Assert.Equal(Small().Tokens.LabelIds, loaded.Tokens.LabelIds);
    }

    [Fact]
    public void Truncated_file_is_detected()
    {
        string path = Path.Combine(folder, "c.tokens");
        Small().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);
        var error = Assert.Throws<InvalidInputException>(() => TokenizedCorpus.Load(path));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Altered_byte_is_detected()
    {
        string path = Path.Combine(folder, "c.tokens");
        Small().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidInputException>(() => TokenizedCorpus.Load(path));
        Assert.Contains("corrupted", error.Message);
    }

    [Fact]
    public void Other_files_and_versions_are_refused()
    {
        string path = Path.Combine(folder, "c.tokens");
        File.WriteAllText(path, "not a token file");
        Assert.Contains("bad magic", Assert.Throws<InvalidInputException>(() => TokenizedCorpus.Load(path)).Message);
        Small().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[8] = 99;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("version 99", Assert.Throws<InvalidInputException>(() => TokenizedCorpus.Load(path)).Message);
    }
}
