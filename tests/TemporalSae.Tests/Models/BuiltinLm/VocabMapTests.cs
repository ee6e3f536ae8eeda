// Vocabulary reduction: most frequent ids kept by rank, the rest to one unknown id, saved and loaded exactly.
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Tests.Fixtures;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.BuiltinLm;

public class VocabMapTests
{
    [Fact]
    public void KeepsMostFrequentIdsAndMapsTheRestToUnknown()
    {
        // Counts: 7 x4, 3 x3, 9 x2 (ties with 5 x2 broken by id), 50256 x1.
        using var ids = tensor(new long[] { 7, 7, 7, 7, 3, 3, 3, 9, 9, 5, 5, 50256 });
        var map = VocabMap.Build(ids, vocab: 4);
        Assert.Equal(new long[] { 7, 3, 50256 }, map.Gpt2Ids); // <|endoftext|> displaces the last kept id
        Assert.Equal(3, map.UnknownId);
        using var model = map.ToModel(tensor(new long[,] { { 7, 5, 50256 }, { 3, 12345, 9 } }));
        Assert.Equal(new long[] { 0, 3, 2, 1, 3, 3 }, model.reshape(-1).data<long>().ToArray());
        using var back = map.ToGpt2(model);
        Assert.Equal(new long[] { 7, -1, 50256, 3, -1, -1 }, back.reshape(-1).data<long>().ToArray());
    }

    [Fact]
    public void SavesAndLoads()
    {
        using var dir = new TempFolder();
        var map = VocabMap.Build(tensor(new long[] { 4, 4, 8, 1, 1, 1 }), vocab: 10);
        map.Save(dir.Path);
        var loaded = VocabMap.TryLoad(dir.Path)!;
        Assert.Equal(new long[] { 1, 4, 8 }, loaded.Gpt2Ids);
        Assert.Equal(4, loaded.Size);
        Assert.Null(VocabMap.TryLoad(Path.Combine(dir.Path, "nothing-here")));
    }
}
