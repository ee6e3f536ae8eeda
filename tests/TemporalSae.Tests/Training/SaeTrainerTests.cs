using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Safetensors;
using TemporalSae.Saes;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Training;

public sealed class SaeTrainerTests : IDisposable
{
    readonly TempFolder folder = new("tsae-trainer-");

    public void Dispose()
    {
        folder.Dispose();
    }

    /// <summary>Seeded random activations with a few planted directions, served in a seeded order per epoch.</summary>
    sealed class SyntheticSource(int dIn, int tokensPerStep, int stepsPerEpoch, float scale = 1) : IBatchSource
    {
        public long StepsPerEpoch => stepsPerEpoch;
        public int TokensPerStep => tokensPerStep;
        public int DIn => dIn;

        public IEnumerable<ActivationBatch> Epoch(long epoch)
        {
            for (int i = 0; i < stepsPerEpoch; i++)
            {
                using var generator = new Generator((ulong)(epoch * 1000 + i + 1));
                using var directions = randn([8, dIn], generator: new Generator(7));
                using var codes = nn.functional.relu(randn([tokensPerStep, 8], generator: generator) - 0.5f);
                yield return new ActivationBatch(codes.matmul(directions).mul_(scale));
            }
        }
    }

    static TrainingConfig Config(long tokens = 64 * 40, int checkpointEvery = 0) => new()
    {
        Tokens = tokens,
        BatchSize = 64,
        LearningRate = 1e-2,
        LrWarmupSteps = 5,
        L1Coefficient = 0.5,
        L1WarmupSteps = 5,
        DeadWindowFraction = 0.25,
        CheckpointEvery = checkpointEvery,
    };

    static SparseAutoencoder NewSae(long seed = 1) => SaeRegistry.Default.Create(new SaeConfig { DSae = 32 }, 16, seed);

    /// <summary>The trainer with the standard architecture's loss coefficients.</summary>
    static SaeTrainer Trainer(TrainingConfig config) =>
        new(config, SaeRegistry.Default[StandardSae.RegistryKey].LossCoefficients(config, new SaeConfig()), TextWriter.Null);

    static byte[] WeightBytes(SparseAutoencoder sae, string path)
    {
        SafetensorsWriter.Write(path, sae.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void Training_lowers_the_reconstruction_loss_and_logs_named_terms()
    {
        using var sae = NewSae();
        var outcome = Trainer(Config()).Train(sae, new SyntheticSource(16, 64, 10), folder, normalizeInputs: true);
        Assert.Equal(40, outcome.Steps);
        Assert.Contains("\"mse\"", outcome.LogLines[^1]);
        double firstMse = double.Parse(System.Text.Json.Nodes.JsonNode.Parse(outcome.LogLines[0])!["mse"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(outcome.FinalTerms["mse"] < firstMse, $"mse did not fall: {firstMse} -> {outcome.FinalTerms["mse"]}");
        Assert.True(outcome.MeanL0 > 0);
    }

    [Fact]
    public void Zero_steps_fail_loudly_with_the_reason()
    {
        using var sae = NewSae();
        var e = Assert.Throws<RunFailedException>(() =>
            Trainer(Config(tokens: 10)).Train(sae, new SyntheticSource(16, 64, 10), folder, normalizeInputs: false));
        Assert.Contains("0 steps", e.Message);
        Assert.Contains("training.tokens = 10", e.Message);
    }

    [Fact]
    public void Non_finite_loss_names_the_step_and_the_term()
    {
        using var sae = NewSae();
        var e = Assert.Throws<RunFailedException>(() =>
            Trainer(Config()).Train(sae, new SyntheticSource(16, 64, 10, scale: float.PositiveInfinity), folder, normalizeInputs: false));
        Assert.Contains("step 1", e.Message);
        Assert.Matches("mse|sparsity", e.Message);
    }

    [Fact]
    public void Latents_silent_through_the_final_window_count_as_dead()
    {
        using var sae = NewSae();
        using (no_grad())
            foreach (var (name, p) in sae.named_parameters())
                if (name == "b_enc") p.narrow(0, 0, 12).fill_(-1e4f); // the first 12 latents cannot fire
        var config = Config() with { LearningRate = 1e-7 };
        var outcome = Trainer(config).Train(sae, new SyntheticSource(16, 64, 10), folder, normalizeInputs: false);
        Assert.Equal(64 * 40 / 4, outcome.DeadWindowTokens);
        Assert.Equal(12, outcome.DeadLatents);
    }

    [Fact]
    public void Every_latent_dead_fails_loudly()
    {
        using var sae = NewSae();
        using (no_grad())
            foreach (var (name, p) in sae.named_parameters())
                if (name == "b_enc") p.fill_(-1e4f); // no latent can fire
        var config = Config() with { LearningRate = 1e-7 };
        var e = Assert.Throws<RunFailedException>(() =>
            Trainer(config).Train(sae, new SyntheticSource(16, 64, 10), folder, normalizeInputs: false));
        Assert.Contains("every one of the 32 latents is dead", e.Message);
    }

    [Fact]
    public void Resumed_run_ends_byte_identical_to_an_uninterrupted_one()
    {
        var source = new SyntheticSource(16, 64, 7); // epochs of 7 steps: the resume crosses an epoch boundary
        using var uninterrupted = NewSae();
        var whole = Trainer(Config(checkpointEvery: 10))
            .Train(uninterrupted, source, Path.Combine(folder, "a"), normalizeInputs: true);

        using var interrupted = NewSae();
        using var cancel = new CancellationTokenSource();
        var stopping = new CancellingSource(source, cancel, afterBatches: 16 + 25); // 16 scale batches, then stop after step 25
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer(Config(checkpointEvery: 10)).Train(interrupted, stopping, Path.Combine(folder, "b"), normalizeInputs: true, cancel.Token));
        Assert.True(File.Exists(Path.Combine(folder, "b", SaeTrainer.CheckpointFile)));

        using var resumed = NewSae(seed: 99); // fresh weights: everything must come from the checkpoint
        var rest = Trainer(Config(checkpointEvery: 10))
            .Train(resumed, source, Path.Combine(folder, "b"), normalizeInputs: true);

        Assert.Equal(WeightBytes(uninterrupted, Path.Combine(folder, "a.safetensors")), WeightBytes(resumed, Path.Combine(folder, "b.safetensors")));
        Assert.Equal(whole.LogLines, rest.LogLines);
        Assert.Equal(whole.InputScale, rest.InputScale);
    }

    /// <summary>Serves batches like its inner source and cancels training once it has served a given number.</summary>
    sealed class CancellingSource(IBatchSource inner, CancellationTokenSource cancel, int afterBatches) : IBatchSource
    {
        int served;
        public long StepsPerEpoch => inner.StepsPerEpoch;
        public int TokensPerStep => inner.TokensPerStep;
        public int DIn => inner.DIn;

        public IEnumerable<ActivationBatch> Epoch(long epoch)
        {
            foreach (ActivationBatch batch in inner.Epoch(epoch))
            {
                if (++served > afterBatches) cancel.Cancel();
                yield return batch;
            }
        }
    }
}
