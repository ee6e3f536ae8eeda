// The memory estimate's arithmetic and the refusal message of the memory limit.
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;

namespace TemporalSae.Tests.Saes.Temporal;

public class TemporalMemoryEstimateTests
{
    static readonly TemporalMemoryShapes Reference = new(32, 128, 768, 6144, 4, Checkpointing: false);

    [Fact]
    public void Estimate_counts_optimiser_state_and_activations()
    {
        double parameters = 2.0 * 768 * 6144 + 6144 + 768 + 4 * 6144;
        double activations = 4096 * (TemporalMemoryEstimate.LatentTensors * 6144 + TemporalMemoryEstimate.InputTensors * 768);
        Assert.Equal((long)Math.Ceiling((4 * parameters + activations) * 4), TemporalMemoryEstimate.Estimate(Reference));
        Assert.True(TemporalMemoryEstimate.Estimate(Reference with { Checkpointing = true }) < TemporalMemoryEstimate.Estimate(Reference));
        Assert.True(TemporalMemoryEstimate.Estimate(Reference with { Batch = 64 }) > TemporalMemoryEstimate.Estimate(Reference));
    }

    [Fact]
    public void Refusal_names_estimate_limit_and_remedies()
    {
        var architecture = SaeRegistry.Default[TemporalSparseAutoencoder.RegistryKey];
        var shapes = new SaeStepShapes(Tokens: 32 * 128, ContextSize: 128, DIn: 768, DSae: 6144);
        var sae = new SaeConfig { Architecture = architecture.Key, DSae = 6144, Temporal = new TemporalConfig { Buffer = 4 } };
        Assert.Equal(TemporalMemoryEstimate.Estimate(Reference), architecture.EstimatePeakBytes(shapes, sae));
        long estimateMb = TemporalMemoryEstimate.Estimate(Reference) / (1024 * 1024);
        Assert.Null(architecture.MemoryRefusal(shapes, sae, estimateMb + 1));
        Assert.Null(architecture.MemoryRefusal(shapes, sae, 0));
        string refusal = architecture.MemoryRefusal(shapes, sae, estimateMb / 2)!;
        Assert.Contains($"training.memory_limit_mb = {estimateMb / 2} MiB", refusal);
        Assert.Contains($"estimated peak memory of a `temporal` training step, {estimateMb} MiB", refusal);
        Assert.Contains("gradient_checkpointing: true", refusal);
        Assert.Contains("training.batch_size", refusal);
        var checkpointed = sae with { Temporal = sae.Temporal with { GradientCheckpointing = true } };
        Assert.DoesNotContain("gradient_checkpointing: true", architecture.MemoryRefusal(shapes, checkpointed, 10));
    }
}
