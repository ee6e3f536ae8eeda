// The unlearning intervention (SAEBench's unlearning): chosen latents that fire are set to -m / ||W_dec,i||, and the
// SAE's error term is kept, x' = (x - x_hat) + decode(f') = x + decode(f') - decode(f). Dividing by the decoder row's
// norm makes the clamp write -m times the latent's unit direction whatever its scale: a ReLU SAE's rows have no fixed
// norm, so a bare -m would push some latents a hundred times further than others. Written as that difference,
// nothing changes at all when no chosen latent fires. Special positions keep their activation, as in the core splice.
// A planted latent (PlantedLatent) is clamped by the same rule, as if it were one more row of the SAE.
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Unlearning;

/// <param name="Chosen">Bool mask [d_sae] of the SAE latents to clamp, or null for none.</param>
/// <param name="Planted">A latent outside the SAE to clamp too (the controls), or null.</param>
public sealed record ClampSpec(Tensor? Chosen, PlantedLatent? Planted, double Multiplier);

public static class LatentClamp
{
    /// <summary>
    /// Latents ranked for clamping: those that fire on forget text and whose retain-side firing rate is below
    /// <paramref name="retainThreshold"/>, by forget-side firing rate, highest first (ties: lower index), at most
    /// <paramref name="count"/>. Fewer when fewer qualify: a latent that never fires on forget text has nothing to unlearn.
    /// </summary>
    public static int[] Select(IReadOnlyList<double> forgetSparsity, IReadOnlyList<double> retainSparsity, double retainThreshold, int count) =>
        Enumerable.Range(0, forgetSparsity.Count).Where(i => forgetSparsity[i] > 0 && retainSparsity[i] < retainThreshold)
            .OrderByDescending(i => forgetSparsity[i]).ThenBy(i => i).Take(count).ToArray();

    /// <summary>x' for a sequence batch.</summary>
    /// <param name="decoderNorms">||W_dec,i|| [d_sae] (<see cref="ScaledLatents.DecoderNorms"/>).</param>
    public static Tensor Apply(SparseAutoencoder sae, Tensor decoderNorms, ActivationBatch batch, ClampSpec clamp)
    {
        using var scope = NewDisposeScope();
        Tensor x = batch.X;                                                                  // [B, T, d]
        Tensor edited = x;
        if (clamp.Chosen is { } chosen)
        {
            Tensor f = sae.Encode(batch);                                                    // [B, T, d_sae]
            // A zero-norm row writes nothing either way; the floor only keeps -m / 0 out of the arithmetic.
            Tensor target = (-clamp.Multiplier / decoderNorms.clamp_min(1e-12)).expand_as(f);
            Tensor clamped = where(chosen.logical_and(f.gt(0)), target, f);
            edited = edited + (sae.Decode(clamped) - sae.Decode(f));
        }
        if (clamp.Planted is { } planted)
        {
            Tensor g = planted.Encode(x);                                                    // [B, T]
            Tensor clamped = where(g.gt(0), full_like(g, -clamp.Multiplier / planted.DecoderNorm), g);
            edited = edited + (clamped - g).unsqueeze(-1) * planted.DecoderRow;              // [B, T, d]
        }
        if (batch.Special is not null) edited = where(batch.Special.unsqueeze(-1), x, edited);
        return edited.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// One latent added beside an SAE for the evaluation's controls. Decoder row W = mu_F - mu_R (for the positive
/// control, the difference of the forget and retain mean activations); along its direction u = W / ||W|| it fires
/// past a threshold c, g = ReLU(u . x - c) / ||W||, so g W is the part of x along u beyond c, and the clamp (to
/// -m / ||W||) writes -m u where it fires, exactly as for an SAE latent. c is the midpoint u . (mu_F + mu_R) / 2, raised
/// when needed so that the latent fires on at most a given fraction of retain tokens: the rule SAE latents must pass
/// to be chosen, without which a direction that separates the means still fires on many retain tokens.
/// </summary>
public sealed class PlantedLatent : IDisposable
{
    PlantedLatent(Tensor direction, double threshold, Tensor decoderRow)
    {
        Direction = direction;
        Threshold = threshold;
        DecoderRow = decoderRow;
        DecoderNorm = decoderRow.norm().item<float>();
    }

    /// <summary>Unit direction u [d].</summary>
    public Tensor Direction { get; }

    /// <summary>c: the latent fires where u . x > c.</summary>
    public double Threshold { get; }

    /// <summary>W [d].</summary>
    public Tensor DecoderRow { get; }

    public double DecoderNorm { get; }

    /// <summary>The forget-specific direction W = mu_F - mu_R, firing on at most <paramref name="retainRate"/> of <paramref name="retainSample"/> [N, d].</summary>
    public static PlantedLatent FromMeans(Tensor forgetMean, Tensor retainMean, Tensor retainSample, double retainRate)
    {
        using var scope = NewDisposeScope();
        Tensor difference = (forgetMean - retainMean).to_type(ScalarType.Float32);      // [d]
        return Along(difference / difference.norm(), difference.norm().item<float>(), forgetMean, retainMean, retainSample, retainRate);
    }

    /// <summary>The irrelevant control: a seeded random direction with the same decoder norm and threshold rule.</summary>
    public static PlantedLatent Random(Tensor forgetMean, Tensor retainMean, Tensor retainSample, double retainRate, long seed)
    {
        using var scope = NewDisposeScope();
        Tensor random = randn(forgetMean.shape, ScalarType.Float32, generator: new Generator((ulong)seed));
        return Along(random / random.norm(), (forgetMean - retainMean).to_type(ScalarType.Float32).norm().item<float>(), forgetMean, retainMean,
            retainSample, retainRate);
    }

    static PlantedLatent Along(Tensor unit, double norm, Tensor forgetMean, Tensor retainMean, Tensor retainSample, double retainRate)
    {
        double midpoint = (unit.to_type(ScalarType.Float64) * (forgetMean + retainMean).to_type(ScalarType.Float64)).sum().item<double>() / 2;
        double[] projections = matmul(retainSample.to_type(ScalarType.Float32), unit).to_type(ScalarType.Float64).data<double>().ToArray();
        Array.Sort(projections);
        // The smallest c with #{u . x > c} <= retainRate N on the sample.
        int allowed = (int)Math.Floor(retainRate * projections.Length);
        double quantile = projections.Length == 0 ? double.NegativeInfinity : projections[projections.Length - 1 - Math.Min(allowed, projections.Length - 1)];
        return new PlantedLatent(unit.detach().clone().DetachFromDisposeScope(), Math.Max(midpoint, quantile), (unit * norm).detach().clone().DetachFromDisposeScope());
    }

    /// <summary>g [B, T] for activations [B, T, d].</summary>
    public Tensor Encode(Tensor x) => (matmul(x, Direction) - Threshold).relu() / DecoderNorm;

    public void Dispose()
    {
        Direction.Dispose();
        DecoderRow.Dispose();
    }
}
