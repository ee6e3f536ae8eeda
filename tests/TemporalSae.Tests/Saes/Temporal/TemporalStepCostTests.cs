// Peak memory and time of a Temporal SAE training step (forward + backward) against a plain ReLU SAE written with
// ordinary autograd, and the effect of gradient checkpointing. Runs alone (not in parallel with other tests) because
// the peak resident memory is process-wide. TSAE_TEMPORAL_STEP_FULL=1 measures the reference shape
// (d_in 768, d_sae 6144, 4096 tokens = 32 x 128) instead of the quick one.
using TemporalSae.Infrastructure;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Saes.Temporal;

[CollectionDefinition(nameof(PeakMemoryCollection), DisableParallelization = true)]
public sealed class PeakMemoryCollection;

[Collection(nameof(PeakMemoryCollection))]
public class TemporalStepCostTests(ITestOutputHelper output)
{
    static bool Full => Environment.GetEnvironmentVariable("TSAE_TEMPORAL_STEP_FULL") == "1";

    /// <summary>A plain ReLU SAE step (SAELens' loss), the baseline the temporal step is compared with.</summary>
    static void PlainStep(TemporalSparseAutoencoder weights, ActivationBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var f = torch.nn.functional.relu((batch.X - weights.b_dec).matmul(weights.W_enc) + weights.b_enc);
        var xHat = f.matmul(weights.W_dec) + weights.b_dec;
        var loss = (xHat - batch.X).square().sum(-1).mean() + 5 * f.matmul(weights.W_dec.norm(1)).mean();
        loss.backward();
    }

    static void TemporalStep(TemporalSparseAutoencoder sae, ActivationBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var forward = sae.Forward(new SaeStep(batch, StepCoefficients.Of(("sparsity", 5))));
        forward.Loss.backward();
    }

    /// <summary>One warm-up step, then the fastest of the timed steps and the peak of one more.</summary>
    static (double Seconds, long PeakBytes) Measure(Action step, int repeats)
    {
        step();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            step();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        return (times.Min(), ProcessMemory.MeasurePeakAbove(step));
    }

    [Fact]
    public void Checkpointing_lowers_the_measured_peak_memory()
    {
        if (!ProcessMemory.Supported) return;
        // Quick shape: each [B, T, d_sae] tensor is 36 MiB, large against everything else the step allocates.
        int dIn = Full ? 768 : 64, dSae = Full ? 6144 : 4608, b = Full ? 32 : 16, t = 128, repeats = Full ? 3 : 1;
        torch.set_num_threads(2);
        var batch = TemporalTestData.Batch(b, t, dIn, seed: 1);
        var config = TemporalTestData.Config(dSae, buffer: 4, boundary: "document");
        var plain = TemporalSparseAutoencoder.Create(config, dIn, seed: 2);
        var checkpointed = TemporalSparseAutoencoder.Create(config with { Temporal = config.Temporal with { GradientCheckpointing = true } }, dIn, seed: 2);
        foreach (var sae in new[] { plain, checkpointed }) TemporalTestData.Perturb(sae, 3);

        var reference = Measure(() => PlainStep(plain, batch), repeats);
        var temporal = Measure(() => TemporalStep(plain, batch), repeats);
        var withCheckpointing = Measure(() => TemporalStep(checkpointed, batch), repeats);
        long tensorBytes = (long)b * t * dSae * sizeof(float);
        string Report(string name, (double Seconds, long PeakBytes) m) =>
            $"{name}: {m.Seconds * 1000:F0} ms, peak +{m.PeakBytes / 1048576.0:F0} MiB ({m.PeakBytes / (double)tensorBytes:F2} x [B,T,d_sae])";
        output.WriteLine($"B={b} T={t} d_in={dIn} d_sae={dSae} K=4, one [B,T,d_sae] fp32 tensor = {tensorBytes / 1048576.0:F0} MiB");
        output.WriteLine(Report("plain ReLU SAE step", reference));
        output.WriteLine(Report("temporal step", temporal));
        output.WriteLine(Report("temporal step, checkpointed", withCheckpointing));
        output.WriteLine($"estimate: {TemporalMemoryEstimate.Estimate(new TemporalMemoryShapes(b, t, dIn, dSae, 4, false)) / 1048576.0:F0} MiB, " +
            $"checkpointed {TemporalMemoryEstimate.Estimate(new TemporalMemoryShapes(b, t, dIn, dSae, 4, true)) / 1048576.0:F0} MiB (with optimiser state)");

        // Checkpointing drops the saved pre-activations z, one [B, T, d_sae] tensor, from the whole backward pass (the
        // recomputed z is released once c's gradient is known). Measured: 1.0 tensors saved at the quick shape, 0.94 at
        // the reference shape; half a tensor is required.
        long required = tensorBytes / 2;
        Assert.True(withCheckpointing.PeakBytes < temporal.PeakBytes - required,
            $"checkpointed peak {withCheckpointing.PeakBytes} is not below the plain temporal peak {temporal.PeakBytes} minus {required} bytes");
    }
}
