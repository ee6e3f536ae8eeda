// A dense baseline for an SAE: the mean and the top-k principal directions of a set of activations (from an
// ActivationSpectrumAccumulator's covariance), reconstructing x as mean + W W^T (x - mean). The best rank-k affine
// reconstruction in squared error of the data it was fitted on. See docs/science.md, "core".
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Analysis;

public sealed class PrincipalComponents : IDisposable
{
    readonly Tensor mean;        // [d] float32
    readonly Tensor directions;  // [d, k] float32, orthonormal columns, largest variance first

    PrincipalComponents(Tensor mean, Tensor directions, double fittedVariance, double totalVariance)
    {
        this.mean = mean;
        this.directions = directions;
        FittedVarianceShare = totalVariance > 0 ? fittedVariance / totalVariance : 0;
    }

    public int K => (int)directions.shape[1];
    public int DModel => (int)directions.shape[0];

    /// <summary>Share of the fitting data's variance that the k directions hold (in-sample).</summary>
    public double FittedVarianceShare { get; }

    public static PrincipalComponents Fit(ActivationSpectrumAccumulator fitted, int k)
    {
        if (k < 1 || k > fitted.DModel)
            throw new InvalidInputException($"PCA baseline: k must be in 1..{fitted.DModel} (d_in), got {k}");
        using var scope = NewDisposeScope();
        Tensor covariance = fitted.Covariance();                                              // [d, d] float64
        var (values, vectors) = linalg.eigh(covariance);                                      // ascending
        Tensor top = vectors.narrow(1, fitted.DModel - k, k).flip(1);                         // [d, k], largest first
        double kept = values.narrow(0, fitted.DModel - k, k).clamp_min(0).sum().item<double>();
        double total = values.clamp_min(0).sum().item<double>();
        Tensor mean = tensor(fitted.Mean(), ScalarType.Float64).to(ScalarType.Float32);
        return new PrincipalComponents(mean.DetachFromDisposeScope(), top.to(ScalarType.Float32).contiguous().DetachFromDisposeScope(),
            kept, total);
    }

    /// <summary>Coordinates (x - mean) W [.., k] of x [.., d].</summary>
    public Tensor Project(Tensor x) => (x.to(ScalarType.Float32) - mean).matmul(directions);

    /// <summary>mean + W W^T (x - mean), [.., d] in x's dtype.</summary>
    public Tensor Reconstruct(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor coordinates = Project(x);                                                      // [.., k]
        return (coordinates.matmul(directions.t()) + mean).to(x.dtype).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        mean.Dispose();
        directions.Dispose();
    }
}
