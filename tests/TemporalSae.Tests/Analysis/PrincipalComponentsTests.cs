// The dense PCA baseline, fitted on one sample and scored on a fresh one with core's pooled explained variance:
// activations in a k-dimensional subspace are reconstructed almost exactly by k components, isotropic noise only
// to about k / d.
using TemporalSae.Analysis;
using TemporalSae.Evals.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Analysis;

public class PrincipalComponentsTests
{
    const int D = 24;

    static PrincipalComponents Fit(Tensor x, int k)
    {
        var acc = new ActivationSpectrumAccumulator(D);
        long n = x.shape[0];
        acc.Add(x, ones([n], ScalarType.Bool), zeros([n], ScalarType.Int64), zeros([n], ScalarType.Int64));
        return PrincipalComponents.Fit(acc, k);
    }

    /// <summary>Core's explained_variance of the PCA reconstruction of <paramref name="x"/> [n, d].</summary>
    static double ExplainedVariance(PrincipalComponents pca, Tensor x)
    {
        var core = new CoreEvalAccumulator();
        core.AddReconstruction(x, pca.Reconstruct(x), pca.Project(x), ones([x.shape[0]], ScalarType.Bool));
        core.AddLogits(zeros([1, 2], ScalarType.Int64), zeros([1, 2], ScalarType.Bool), zeros(1, 2, 2), zeros(1, 2, 2),
            zeros(1, 2, 2).index_put_(tensor(1f), 0, 0, 1));
        return core.Result().ReconstructionQuality.ExplainedVariance;
    }

    static Tensor Subspace(Tensor basis, int n, Generator g) =>
        (randn([n, basis.shape[1]], dtype: ScalarType.Float64, generator: g).matmul(basis.t()) - 2).to(ScalarType.Float32);

    [Fact]
    public void K_components_reconstruct_activations_of_a_k_dimensional_subspace()
    {
        using var g = new Generator(11);
        const int k = 4;
        Tensor basis = linalg.qr(randn([D, k], dtype: ScalarType.Float64, generator: g)).Q;
        using PrincipalComponents pca = Fit(Subspace(basis, 10_000, g), k);
        Assert.Equal(k, pca.K);
        Assert.Equal(1.0, pca.FittedVarianceShare, 6);
        Assert.InRange(ExplainedVariance(pca, Subspace(basis, 5_000, g)), 0.9999, 1.0 + 1e-9);   // high

        // One component fewer than the subspace loses about a quarter of the variance.
        using PrincipalComponents short_ = Fit(Subspace(basis, 10_000, g), k - 1);
        Assert.InRange(ExplainedVariance(short_, Subspace(basis, 5_000, g)), 0.6, 0.9);
    }

    [Fact]
    public void On_isotropic_noise_k_components_explain_about_k_over_d()
    {
        using var g = new Generator(12);
        const int k = 6;
        using PrincipalComponents pca = Fit(randn([40_000, D], generator: g) + 5, k);
        double ev = ExplainedVariance(pca, randn([40_000, D], generator: g) + 5);                 // low
        Assert.InRange(ev, k / (double)D - 0.02, k / (double)D + 0.02);
    }

    [Fact]
    public void Directions_are_orthonormal_and_k_is_checked()
    {
        using var g = new Generator(13);
        Tensor x = randn([2_000, D], generator: g);
        using PrincipalComponents all = Fit(x, D);
        // With every component the reconstruction is the input.
        Assert.True(allclose(all.Reconstruct(x), x, rtol: 1e-4, atol: 1e-4));
        Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => Fit(x, 0));
        Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => Fit(x, D + 1));
    }
    [Theory]
    [InlineData(0.09, 1)]
    [InlineData(11.5, 12)]
    [InlineData(11.49, 11)]
    [InlineData(900.0, D)]
    public void K_is_the_rounded_sae_l0_within_one_and_d_in(double l0, int k) =>
        Assert.Equal(k, CoreEvalStage.PcaComponents(l0, D));
}

