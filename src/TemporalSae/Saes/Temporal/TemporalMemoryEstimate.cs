// Peak-memory estimate of a Temporal SAE training step from the shapes alone (docs/science.md, "The Temporal SAE" 5).

namespace TemporalSae.Saes.Temporal;

/// <summary>Shapes of one training step: B sequences of T tokens, widths, buffer K, checkpointing, aux-k (TopK activation).</summary>
public sealed record TemporalMemoryShapes(int Batch, int Tokens, int DIn, int DSae, int Buffer, bool Checkpointing, bool AuxK = false);

public static class TemporalMemoryEstimate
{
    /// <summary>fp32 parameters, gradients and Adam's two moments: 4 copies of every parameter.</summary>
    public const int ParameterCopies = 4;

    /// <summary>
    /// [B, T, d_sae] fp32 tensors alive at the peak of a step. Measured in TemporalStepCostTests, SaeMemoryEstimateTests
    /// and `tsae bench sae-step` (K 4, live allocations, [B, T, d_in] tensors included): 4.2 / 4.8 without
    /// checkpointing at d_in 64 / 768 with ReLU, 5.1 with TopK, and 3.2 / 3.8 with checkpointing; rounded up. The peak
    /// falls in the backward pass, where the features f, the saved z, the features' accumulated gradient and the
    /// consistency gradient coexist; checkpointing removes z.
    /// </summary>
    public const double LatentTensors = 5.5, LatentTensorsCheckpointed = 4.5;

    /// <summary>
    /// What aux-k adds while latents are dead: the dead latents' pre-activations, their convolution and the loss's
    /// temporaries, with their gradients, all [B, T, n_dead]. Measured at K 4, d_in 64, TopK with half the latents dead:
    /// 6.1 [B, T, d_sae] tensors against 5.1 with none dead; rounded up, for up to half the latents dead.
    /// </summary>
    public const double AuxKLatentTensors = 1;

    /// <summary>[B, T, d_in] tensors alive at the peak: x, x_hat, the residual and its gradient.</summary>
    public const double InputTensors = 4;

    /// <summary>Estimated peak bytes of one training step with Adam, before it runs.</summary>
    public static long Estimate(TemporalMemoryShapes shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        double parameters = 2.0 * shapes.DIn * shapes.DSae + shapes.DSae + shapes.DIn + (double)shapes.Buffer * shapes.DSae;
        double tokens = (double)shapes.Batch * shapes.Tokens;
        double latent = (shapes.Checkpointing ? LatentTensorsCheckpointed : LatentTensors) + (shapes.AuxK ? AuxKLatentTensors : 0);
        double floats = ParameterCopies * parameters + tokens * (latent * shapes.DSae + InputTensors * shapes.DIn);
        return (long)Math.Ceiling(floats * sizeof(float));
    }

    /// <summary>What to change when the estimate is above training.memory_limit_mb: checkpointing first, when it is off.</summary>
    public static string Advice(TemporalMemoryShapes shapes)
    {
        string checkpointing = shapes.Checkpointing ? "" : "set sae.temporal.gradient_checkpointing: true (estimate " +
            $"{Estimate(shapes with { Checkpointing = true }) / 1048576.0:F0} MiB), ";
        return $"{checkpointing}lower training.batch_size or sae.d_sae, or raise training.memory_limit_mb";
    }
}
