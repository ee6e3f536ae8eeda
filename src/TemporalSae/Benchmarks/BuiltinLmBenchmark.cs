// Training throughput of the built-in model at a given configuration, measured on random token windows for a few
// steps and projected to the configuration's full step count (the 8-minute budget check for the real run).
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models.BuiltinLm;
using static TorchSharp.torch;

namespace TemporalSae.Benchmarks;

public sealed record BuiltinLmBenchResult(int MeasuredSteps, double TokensPerSecond, int ConfiguredSteps, long ConfiguredTokens, double ProjectedSeconds);

public static class BuiltinLmBenchmark
{
    public static BuiltinLmBenchResult Run(BuiltinModelConfig config, int measuredSteps, int context, Action<string>? progress = null)
    {
        if (measuredSteps < 1) throw new InvalidInputException("--steps must be at least 1");
        using var generator = new Generator(0, CPU);
        // Ids drawn from more distinct values than the vocabulary keeps, so the reduced vocabulary is full size.
        long distinct = Math.Max(2L * config.Vocab, 1000);
        using var train = randint(0, distinct, [Math.Max(64, config.BatchSize * 4), context], generator: generator, dtype: ScalarType.Int64);
        using var val = randint(0, distinct, [config.BatchSize, context], generator: generator, dtype: ScalarType.Int64);
        string folder = Directory.CreateTempSubdirectory("tsae-bench-builtin-").FullName;
        try
        {
            var report = BuiltinLmTrainer.Train(config with { Steps = measuredSteps, WarmupSteps = 1 }, 0, train, val, folder, progress);
            long tokens = (long)config.Steps * config.BatchSize * context;
            return new BuiltinLmBenchResult(measuredSteps, report.TokensPerSecond, config.Steps, tokens, tokens / report.TokensPerSecond);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
