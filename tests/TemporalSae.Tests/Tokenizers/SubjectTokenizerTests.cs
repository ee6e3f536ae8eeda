// Tokenizer files in a checkpoint folder: optional, but both or neither.
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Tests.Models;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Tokenizers;

public class SubjectTokenizerTests
{
    [Fact]
    public void FolderWithoutTokenizerFilesGivesNull()
    {
        using var dir = new TempFolder();
        Assert.Null(SubjectTokenizer.TryLoad(dir.Path));
    }

    [Fact]
    public void HalfATokenizerIsRejected()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("vocab.json"), "{}");
        var e = Assert.Throws<InvalidInputException>(() => SubjectTokenizer.TryLoad(dir.Path));
        Assert.Contains("merges.txt", e.Message);
    }

    [Fact]
    public void BpeFilesGiveMergedIds()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("vocab.json"), "{\"h\": 0, \"i\": 1, \"hi\": 2, \"Ġ\": 3, \"Ġhi\": 4, \"<|endoftext|>\": 5}");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\nh i\nĠ hi\n");
        var tokenizer = SubjectTokenizer.TryLoad(dir.Path)!;
        Assert.Equal(new[] { 2, 4 }, tokenizer.EncodeToIds("hi hi"));
    }
}
