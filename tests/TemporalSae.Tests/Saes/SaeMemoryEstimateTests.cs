// Every registered architecture's peak-memory estimate against the peak the trainer measures for the same step:
// the estimate must cover the measurement (tsae validate refuses runs by it) without being so loose that it refuses
// runs that fit. Runs in the peak-memory collection: the measurement is of live native allocations, process-wide.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Tests.Saes.Temporal;
using TemporalSae.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Saes;

[Collection(nameof(PeakMemoryCollection))]
public sealed class SaeMemoryEstimateTests(ITestOutputHelper output) : IDisposable
{
    const int Width = 64, DSae = 2048, Context = 128, Tokens = 16 * Context;

    readonly TempFolder folder = new("tsae-memory-estimate-");

    public void Dispose() => folder.Dispose();

    public static TheoryData<string> Architectures() => new(SaeRegistry.Default.Keys);

    /// <summary>The same random batch every step: sequences of one document with sentences of 32 tokens.</summary>
    sealed class RepeatedBatch(bool sequences) : IBatchSource
    {
        readonly Tensor x = sequences ? randn([Tokens / Context, Context, Width]) : randn([Tokens, Width]);
        readonly Tensor ids = arange(Tokens, dtype: ScalarType.Int64).div(32, rounding_mode: RoundingMode.floor).reshape(Tokens / Context, Context);
        public long StepsPerEpoch => 1_000_000;
        public int TokensPerStep => Tokens;
        public int DIn => Width;

        public IEnumerable<ActivationBatch> Epoch(long epoch)
        {
            while (true)
                yield return sequences
                    ? new ActivationBatch(x.alias(), zeros_like(ids), ids.alias(), zeros([Tokens / Context, Context], ScalarType.Bool))
                    : new ActivationBatch(x.alias());
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Estimate_covers_the_measured_step_and_is_not_far_above_it(string key)
    {
        if (!ProcessMemory.Supported) return;
        set_num_threads(2);
        SaeArchitecture architecture = SaeRegistry.Default[key];
        // TopK activations (temporal, T-SAE) exercise their larger path; k well inside d_sae.
        var sae = new SaeConfig { Architecture = key, DSae = DSae, K = 64, Temporal = new TemporalConfig { Activation = "topk" } };
        var training = new TrainingConfig { Tokens = 4L * Tokens, BatchSize = Tokens, CheckpointEvery = 0, LrWarmupSteps = 1, L1WarmupSteps = 1 };
        using var model = architecture.Create(sae, Width, seed: 1);
        var trainer = new SaeTrainer(training, architecture.LossCoefficients(training, sae), TextWriter.Null);
        long measured = trainer.Train(model, new RepeatedBatch(architecture.TrainsOnSequences), folder, normalizeInputs: false).StepPeakBytes;

        var shapes = new SaeStepShapes(Tokens, Context, Width, DSae);
        long estimate = architecture.EstimatePeakBytes(shapes, sae);
        // The measurement starts after the parameters, gradients and Adam moments exist; the estimate includes them.
        long parameters = model.parameters().Sum(p => p.numel()) * sizeof(float) * SaeArchitecture.ParameterCopies;
        long latentTensor = (long)Tokens * DSae * sizeof(float);
        output.WriteLine($"{key}: measured {measured / 1048576.0:F1} MiB above the parameters ({measured / (double)latentTensor:F2} x [N, d_sae]), " +
                         $"estimate {(estimate - parameters) / 1048576.0:F1} MiB + {parameters / 1048576.0:F1} MiB of parameters and Adam state");
        Assert.True(estimate - parameters >= measured,
            $"{key}: the estimate {(estimate - parameters) / 1048576.0:F1} MiB is below the measured {measured / 1048576.0:F1} MiB");
        Assert.True(estimate - parameters <= measured + 2 * latentTensor,
            $"{key}: the estimate {(estimate - parameters) / 1048576.0:F1} MiB is more than two [N, d_sae] tensors above the measured {measured / 1048576.0:F1} MiB");
    }
}
