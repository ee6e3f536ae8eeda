// Stage estimates from a model's shape, the manifest's token counts and given throughputs: the memory of a known
// shape, the time as FLOPs over throughput, and stages that do not run left out.
using TemporalSae.Benchmarks;
using TemporalSae.Manifests;
using TemporalSae.Models;

namespace TemporalSae.Tests.Benchmarks;

public class StageEstimatesTests
{
    static readonly MachineThroughput Machine = new(ModelGflops: 100, Float32Gflops: 50, CopyGbPerSecond: 10, ModelDtype: "bfloat16");

    static ExperimentConfig Gemma(params string[] stages) => new()
    {
        Stages = stages,
        SubjectModel = new SubjectModelConfig { Kind = "gemma2", Path = "${X}", Dtype = "bfloat16", Config = "google/gemma-2-2b" },
        Activations = new ActivationsConfig { Hook = "blocks.19.hook_resid_post", TrainTokens = 128_000, HeldoutTokens = 12_800 },
        Sae = new SaeConfig { DSae = 2304 },
        Training = new TrainingConfig { Tokens = 1_000_000 },
    };

    [Fact]
    public void Gemma_2_2b_in_bfloat16_from_float32_files_needs_both_copies_of_its_weights_while_loading()
    {
        var estimates = StageEstimates.For(Gemma("data", "subject_model"), ModelShape.Gemma2_2B, null, Machine);
        Assert.Equal(["data", "subject_model"], estimates.Select(e => e.Stage));
        StageEstimate load = estimates[1];
        Assert.Equal(2_614_341_888L * (4 + 2), load.PeakBytes);              // 10.5 GB read, 5.2 GB converted
        Assert.Equal(2_614_341_888.0 * 6 / 10e9, load.Seconds, 6);
    }

    [Fact]
    public void Harvest_time_is_the_forward_flops_to_the_hook_and_with_logits_over_the_measured_rate()
    {
        ModelShape shape = ModelShape.Gemma2_2B;
        StageEstimate harvest = StageEstimates.For(Gemma("data", "subject_model", "activations"), shape, null, Machine)[2];
        // 1,000 windows through blocks 0..19, 100 held-out windows through all 26 blocks and the unembedding.
        double perToken = 20 * (2.0 * shape.BlockMatrixParameters + 4.0 * 128 * 8 * 256);
        double heldout = 26 * (2.0 * shape.BlockMatrixParameters + 4.0 * 128 * 8 * 256) + 2.0 * 256_000 * 2304;
        double load = 2_614_341_888.0 * 6 / 10e9;
        Assert.Equal(load + (128_000 * perToken + 12_800 * heldout) / 100e9, harvest.Seconds, 3);
        Assert.True(harvest.PeakBytes >= 2_614_341_888L * 2, "the harvest holds the bfloat16 weights at least");
        Assert.Contains("the store takes 1.2 GB on disk", harvest.Counts);          // 128,000 x 2304 float32
    }

    [Fact]
    public void Every_evaluation_that_runs_is_estimated_and_the_sae_at_float32_speed()
    {
        var config = Gemma("data", "subject_model", "activations", "sae", "evals");
        config = config with { Evals = config.Evals with { Stability = new StabilityEvalConfig { Enabled = false } } };
        var estimates = StageEstimates.For(config, ModelShape.Gemma2_2B, null, Machine);
        Assert.Equal(["data", "subject_model", "activations", "sae", "evals.core", "evals.capability", "evals.unlearning", "evals.sparse_probing", "evals.smoothness"],
            estimates.Select(e => e.Stage));
        Assert.Equal(1_000_000 * 12.0 * 2304 * 2304 / 50e9, estimates[3].Seconds, 6);
        Assert.All(estimates.Skip(4), e => Assert.True(e.PeakBytes >= 2_614_341_888L * 6));
        var lines = StageEstimates.Lines(ModelShape.Gemma2_2B, "bfloat16", estimates, Machine);
        Assert.Contains("a lower bound", lines[0]);
        Assert.Contains("GEMM 100 GFLOP/s bfloat16, 50 float32, memory copy 10.0 GB/s", lines[0]);
        Assert.StartsWith("# subject model: gemma2 2.61B parameters, 26 blocks, d_model 2304", lines[1]);
        Assert.StartsWith("#   total", lines[^1]);
    }
}
