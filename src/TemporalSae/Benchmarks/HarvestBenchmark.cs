// Activation-harvesting throughput of a GPT-2-small-shaped model (12 layers, d_model 768, 12 heads, context 128,
// vocab 50257, random weights at GPT-2's init scale) in tokens/s, stopping after one block as harvesting does and
// running the whole forward pass (with unembedding), each compared with the fp32 GEMM peak measured in the same run.
using System.Diagnostics;
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Benchmarks;

/// <summary>Throughput of one forward variant: tokens/s, model GFLOP/s and that rate as a fraction of the GEMM peak.</summary>
public sealed record ForwardThroughput(string Name, double TokensPerSecond, double Gflops, double FractionOfPeak);

public sealed record HarvestBenchResult(GemmPeakResult Peak, int StopLayer, int BatchSize, int Context, ScalarType Dtype,
    ForwardThroughput StopAfter, ForwardThroughput Full);

public static class HarvestBenchmark
{
    public static Gpt2Config Gpt2Small => new() { VocabSize = 50257, NPositions = 1024, NEmbd = 768, NLayer = 12, NHead = 12 };

    /// <summary>Best of <paramref name="repeats"/> timed passes after a warm-up, for stop-after-block and full forward.</summary>
    public static HarvestBenchResult Run(int stopLayer = 6, int batchSize = 8, int context = 128, int repeats = 3,
        ScalarType dtype = ScalarType.Float32, Gpt2Config? config = null, Action<string>? progress = null)
    {
        config ??= Gpt2Small;
        if (stopLayer < 0 || stopLayer >= config.NLayer)
            throw new InvalidInputException($"--layer {stopLayer} is outside the model's blocks 0..{config.NLayer - 1}");
        if (repeats < 1 || batchSize < 1 || context < 1 || context > config.NPositions)
            throw new InvalidInputException($"bench needs repeats >= 1, batch >= 1 and context 1..{config.NPositions}");

        var peakBefore = GemmPeak.Measure(ScalarType.Float32);

        using var model = new Gpt2Model(config, seed: 0).ToDtype(dtype);
        model.to(TorchRuntime.Device);
        model.eval();
        using var generator = new Generator(1, CPU);
        using var ids = randint(0, config.VocabSize, [batchSize, context], generator: generator, dtype: ScalarType.Int64).to(TorchRuntime.Device);
        long tokens = (long)batchSize * context;

        double stopSeconds = Time(model, ids, new ResidHook(stopLayer, StopAfter: true), repeats);
        double fullSeconds = Time(model, ids, null, repeats);
        // The peak is measured before and after the passes and the higher kept, so a burst of load from other
        // processes during one measurement does not inflate the ratios.
        var peakAfter = GemmPeak.Measure(ScalarType.Float32);
        var peak = peakAfter.Gflops > peakBefore.Gflops ? peakAfter : peakBefore;
        progress?.Invoke($"fp32 GEMM peak [{GemmPeak.M}x{GemmPeak.K}] @ [{GemmPeak.K}x{GemmPeak.N}]: {peak.Gflops:F1} GFLOP/s " +
                         $"(before {peakBefore.Gflops:F1}, after {peakAfter.Gflops:F1})");
        var stop = Throughput($"stop after blocks.{stopLayer}", tokens, stopSeconds, ForwardFlopsPerToken(config, context, stopLayer + 1, unembed: false), peak);
        var full = Throughput("full forward", tokens, fullSeconds, ForwardFlopsPerToken(config, context, config.NLayer, unembed: true), peak);
        return new HarvestBenchResult(peak, stopLayer, batchSize, context, dtype, stop, full);
    }

    /// <summary>
    /// Multiply-add FLOPs per token of a forward pass: 24 d^2 per block (qkv 6 d^2, output 2 d^2, MLP 16 d^2 with
    /// inner 4d), attention scores and mixing 4 T d per block (full T x T, as the kernel computes it), and 2 d V for
    /// the unembedding.
    /// </summary>
    public static double ForwardFlopsPerToken(Gpt2Config config, int context, int blocks, bool unembed)
    {
        double d = config.NEmbd;
        double perBlock = 2 * (4 * d * d + 2 * d * config.Inner) + 4.0 * context * d;
        return blocks * perBlock + (unembed ? 2 * d * config.VocabSize : 0);
    }

    static double Time(Gpt2Model model, Tensor ids, ResidHook? hook, int repeats)
    {
        using var noGrad = no_grad();
        Pass(model, ids, hook);
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            Pass(model, ids, hook);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    static void Pass(Gpt2Model model, Tensor ids, ResidHook? hook)
    {
        using var scope = NewDisposeScope();
        var output = model.Forward(ids, hook);
        // Reading one value waits for the whole pass on asynchronous devices.
        (output.Logits ?? output.ResidPost!).reshape(-1)[0].item<float>();
    }

    static ForwardThroughput Throughput(string name, long tokens, double seconds, double flopsPerToken, GemmPeakResult peak)
    {
        double gflops = tokens * flopsPerToken / seconds / 1e9;
        return new ForwardThroughput(name, tokens / seconds, gflops, gflops / peak.Gflops);
    }
}
