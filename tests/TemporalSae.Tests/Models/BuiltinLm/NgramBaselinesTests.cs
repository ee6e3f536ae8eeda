// The n-gram baselines against hand-computed values.
using TemporalSae.Models.BuiltinLm;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.BuiltinLm;

public class NgramBaselinesTests
{
    [Fact]
    public void MatchesHandComputedCrossEntropies()
    {
        // Train pairs: (0,1) (1,0) (0,1) (1,0); val pairs: (0,1) (1,1). Vocab 2.
        using var train = tensor(new long[,] { { 0, 1, 0 }, { 0, 1, 0 } });
        using var val = tensor(new long[,] { { 0, 1, 1 } });
        var r = NgramBaselines.Compute(train, val, vocab: 2);
        // Unigram, add one: p(1) = (2+1)/(4+2) = 0.5 for both val targets.
        Assert.Equal(Math.Log(2), r.UnigramCe, 12);
        double Ce(double k) => -(Math.Log((2 + k) / (2 + 2 * k)) + Math.Log((0 + k) / (2 + 2 * k))) / 2;
        Assert.Equal(NgramBaselines.KGrid.Min(Ce), r.BigramCe, 12);
        Assert.Equal(2, r.Positions);
    }

    [Fact]
    public void ScheduleWarmsUpThenDecaysToTheFloor()
    {
        var s = new WarmupCosineSchedule(1.0, 10, 110, 0.1);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(1.0, s.At(9), 12);
        Assert.Equal(1.0, s.At(10), 12);
        Assert.Equal(0.55, s.At(60), 12);
        Assert.Equal(0.1, s.At(110), 12);
    }
}
