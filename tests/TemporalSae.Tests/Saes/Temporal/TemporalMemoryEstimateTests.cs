// The memory estimate's arithmetic and the refusal message of the memory limit.
using TemporalSae.Infrastructure;
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
        long estimateMb = TemporalMemoryEstimate.Estimate(Reference) / (1024 * 1024);
        TemporalMemoryEstimate.EnsureWithinLimit(Reference, estimateMb + 1);
        TemporalMemoryEstimate.EnsureWithinLimit(Reference, 0);
        var e = Assert.Throws<InvalidInputException>(() => TemporalMemoryEstimate.EnsureWithinLimit(Reference, estimateMb / 2));
        Assert.Contains($"training.memory_limit_mb = {estimateMb / 2} MiB", e.Message);
        Assert.Contains("estimated peak memory", e.Message);
        Assert.Contains("gradient_checkpointing: true", e.Message);
        Assert.Contains("training.batch_size", e.Message);
        var checkpointed = Assert.Throws<InvalidInputException>(() =>
            TemporalMemoryEstimate.EnsureWithinLimit(Reference with { Checkpointing = true }, 10));
        Assert.DoesNotContain("gradient_checkpointing: true", checkpointed.Message);
    }
}
