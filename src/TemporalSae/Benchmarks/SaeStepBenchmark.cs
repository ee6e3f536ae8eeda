// `tsae bench sae-step`: the trainer's real step (forward, backward, clipping, Adam, dead-latent tracking) on random
// activations, reported as tokens/s, achieved GFLOP/s and a ratio to the fp32 GEMM peak measured in the same run.
// For a temporal SAE the standard step is measured in the same run too, so its time and peak memory are ratios.
using System.Diagnostics;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Training;
using static TorchSharp.torch;

namespace TemporalSae.Benchmarks;

/// <param name="PeakMegabytes">Measured peak of a step above what the parameters, gradients and Adam moments hold.</param>
/// <param name="EstimatedMegabytes">The architecture's estimate for the same step (what `tsae validate` checks), above the
/// same state, which <paramref name="StateMegabytes"/> gives.</param>
public sealed record SaeStepMeasurement(string Architecture, double SecondsPerStep, double TokensPerSecond, double Gflops, double PeakMegabytes,
    double EstimatedMegabytes, double StateMegabytes);

public sealed record SaeStepReport(SaeStepMeasurement Step, SaeStepMeasurement? Standard, GemmPeakResult Peak)
{
    public double FractionOfPeak => Step.Gflops / Peak.Gflops;
}

public static class SaeStepBenchmark
{
    // Matmul FLOPs of one step: encoder forward and weight gradient, decoder forward, weight gradient and input
    // gradient, 2 * N * d_in * d_sae each (the encoder's input gradient is not needed: activations are data).
    public static double StepFlops(long tokens, int dIn, int dSae) => 10.0 * tokens * dIn * dSae;

    public static SaeStepReport Run(string architecture, int dIn, int dSae, int batchTokens, int steps, int buffer,
        bool gradientCheckpointing = false, int context = 128)
    {
        GemmPeakResult peak = GemmPeak.Measure();
        SaeStepMeasurement step = Measure(architecture, dIn, dSae, batchTokens, steps, buffer, gradientCheckpointing, context);
        SaeStepMeasurement? standard = architecture == StandardSae.RegistryKey ? null
            : Measure(StandardSae.RegistryKey, dIn, dSae, batchTokens, steps, buffer, false, context);
        return new SaeStepReport(step, standard, peak);
    }

    static SaeStepMeasurement Measure(string architecture, int dIn, int dSae, int batchTokens, int steps, int buffer, bool gradientCheckpointing, int context)
    {
        var sae = new SaeConfig
        {
            Architecture = architecture,
            DSae = dSae,
            K = 32,
            Temporal = new TemporalConfig { Buffer = buffer, GradientCheckpointing = gradientCheckpointing },
        };
        SaeArchitecture descriptor = SaeRegistry.Default[architecture];
        bool sequences = descriptor.TrainsOnSequences;
        var source = new RandomBatches(dIn, batchTokens, sequences ? context : 0);
        // Two steps outside the timing: the first loads kernels, and the trainer measures the second's memory (with a
        // sampling thread beside it).
        var config = new TrainingConfig
        {
            Tokens = (long)(steps + UntimedSteps) * source.TokensPerStep,
            BatchSize = batchTokens,
            CheckpointEvery = 0,
            LrWarmupSteps = 0,
            L1WarmupSteps = 0,
            DeadWindowFraction = 0.5,
        };
        using SparseAutoencoder model = descriptor.Create(sae, dIn, seed: 1);
        var timer = new StepTimer(source, steps);
        string scratch = Path.Combine(Path.GetTempPath(), $"tsae-bench-{Guid.NewGuid():N}");
        long peakBytes = new SaeTrainer(config, descriptor.LossCoefficients(config, sae), TextWriter.Null).Train(model, timer, scratch, normalizeInputs: false).StepPeakBytes;
        double seconds = timer.Elapsed.TotalSeconds / steps;
        double stateBytes = model.parameters().Sum(p => p.numel()) * (double)sizeof(float) * SaeArchitecture.ParameterCopies;
        long estimate = descriptor.EstimatePeakBytes(new SaeStepShapes(source.TokensPerStep, context, dIn, dSae), sae);
        return new SaeStepMeasurement(architecture, seconds, source.TokensPerStep / seconds,
            StepFlops(source.TokensPerStep, dIn, dSae) / seconds / 1e9, peakBytes / 1048576.0,
            (estimate - stateBytes) / 1048576.0, stateBytes / 1048576.0);
    }

    /// <summary>One random batch served over and over: the benchmark measures the step, not the data.</summary>
    sealed class RandomBatches : IBatchSource
    {
        readonly Tensor x;
        readonly Tensor? ids, special;

        public RandomBatches(int dIn, int batchTokens, int context)
        {
            using var generator = new Generator(3);
            if (context > 0)
            {
                int sequences = Math.Max(1, batchTokens / context);
                x = randn([sequences, context, dIn], generator: generator);
                ids = zeros([sequences, context], ScalarType.Int64);
                special = zeros([sequences, context], ScalarType.Bool);
                TokensPerStep = sequences * context;
            }
            else
            {
                x = randn([batchTokens, dIn], generator: generator);
                TokensPerStep = batchTokens;
            }
            DIn = dIn;
        }

        public long StepsPerEpoch => 1_000_000;
        public int TokensPerStep { get; }
        public int DIn { get; }

        public IEnumerable<Saes.ActivationBatch> Epoch(long epoch)
        {
            while (true)
                yield return new Saes.ActivationBatch(x.alias(), ids?.alias(), ids?.alias(), special?.alias());
        }
    }

    const int UntimedSteps = 2;

    /// <summary>Times the steps after the untimed ones.</summary>
    sealed class StepTimer(IBatchSource inner, int timedSteps) : IBatchSource
    {
        readonly Stopwatch clock = new();
        public TimeSpan Elapsed => clock.Elapsed;
        public long StepsPerEpoch => inner.StepsPerEpoch;
        public int TokensPerStep => inner.TokensPerStep;
        public int DIn => inner.DIn;

        // The trainer reads a few batches to initialise the decoder bias before its training pass; each pass restarts
        // the clock, so the training pass, the last one, is what it times.
        public IEnumerable<Saes.ActivationBatch> Epoch(long epoch)
        {
            int served = 0;
            foreach (var batch in inner.Epoch(epoch))
            {
                // Batch k is requested when step k-1 is done.
                if (++served == UntimedSteps + 1) clock.Restart();
                if (served == UntimedSteps + timedSteps + 1) clock.Stop();
                yield return batch;
            }
        }
    }
}
