// The harvest benchmark's FLOP count and a small run of it; GEMM peak measurement.
using TemporalSae.Benchmarks;
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Benchmarks;

public class HarvestBenchmarkTests
{
    [Fact]
    public void FlopCountMatchesGpt2SmallArithmetic()
    {
        var config = HarvestBenchmark.Gpt2Small;
        // Non-embedding parameters of GPT-2 small are 85M: 2 FLOPs per weight per token, plus attention and unembedding.
        double perBlock = 2 * 12.0 * 768 * 768 + 4.0 * 128 * 768;
        Assert.Equal(12 * perBlock + 2.0 * 768 * 50257, HarvestBenchmark.ForwardFlopsPerToken(config, 128, 12, unembed: true), 6);
        Assert.Equal(7 * perBlock, HarvestBenchmark.ForwardFlopsPerToken(config, 128, 7, unembed: false), 6);
    }

    [Fact]
    public void SmallRunReportsPositiveThroughputForBothVariants()
    {
        var config = new Gpt2Config { VocabSize = 100, NPositions = 16, NEmbd = 32, NLayer = 4, NHead = 2 };
        var result = HarvestBenchmark.Run(stopLayer: 1, batchSize: 2, context: 16, repeats: 1, config: config);
        Assert.Equal(1, result.StopLayer);
        Assert.True(result.Peak.Gflops > 0 && double.IsFinite(result.Peak.Gflops));
        foreach (var t in new[] { result.StopAfter, result.Full })
        {
            Assert.True(t.TokensPerSecond > 0 && double.IsFinite(t.TokensPerSecond), t.Name);
            Assert.Equal(t.Gflops / result.Peak.Gflops, t.FractionOfPeak, 9);
        }
        Assert.Throws<InvalidInputException>(() => HarvestBenchmark.Run(stopLayer: 4, config: config));
    }

    [Fact]
    public void GemmPeakCountsTwoFlopsPerMultiplyAdd()
    {
        var r = GemmPeak.Measure(ScalarType.Float32, repeats: 1);
        Assert.Equal(2.0 * 4096 * 768 * 6144 / r.BestSeconds / 1e9, r.Gflops, 6);
        Assert.True(r.Gflops > 1, $"{r.Gflops} GFLOP/s is implausibly low for a 4096x768x6144 GEMM");
    }
}
