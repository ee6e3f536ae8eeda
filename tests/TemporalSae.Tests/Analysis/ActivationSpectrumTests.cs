// The activation spectrum against data whose answer is known: a k-dimensional subspace (few components), isotropic
// noise (every component), one dominant dimension (covariance vs correlation), and activations that are (or are not)
// a function of the token id or the position.
using TemporalSae.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Analysis;

public class ActivationSpectrumTests
{
    const int D = 16;

    static SpectrumResult Spectrum(Tensor x, Tensor? tokenIds = null, Tensor? positions = null)
    {
        long n = x.shape[0];
        var acc = new ActivationSpectrumAccumulator(D);
        acc.Add(x, ones([n], ScalarType.Bool), tokenIds ?? zeros([n], ScalarType.Int64), positions ?? zeros([n], ScalarType.Int64));
        return acc.Result();
    }

    /// <summary>n vectors of width D lying in a random k-dimensional subspace (isotropic within it), plus an offset.</summary>
    static Tensor Subspace(int n, int k, Generator g)
    {
        Tensor basis = linalg.qr(randn([D, k], dtype: ScalarType.Float64, generator: g)).Q;        // [D, k] orthonormal
        return (randn([n, k], dtype: ScalarType.Float64, generator: g).matmul(basis.t()) + 3).to(ScalarType.Float32);
    }

    [Fact]
    public void Activations_in_a_k_dimensional_subspace_need_k_components()
    {
        using var g = new Generator(1);
        SpectrumResult r = Spectrum(Subspace(20_000, 3, g));
        Assert.Equal(3, r.Covariance.Components99);
        Assert.True(r.Covariance.Components50 <= 2);
        Assert.InRange(r.Covariance.ParticipationRatio, 2.9, 3.0 + 1e-9);                         // low: about k
        Assert.Equal(1.0, r.Covariance.TopFractions.Take(3).Sum(), 4);
        Assert.Equal(0.0, r.Covariance.TopFractions.Skip(3).Sum(), 4);
        Assert.Equal(3.0 / D, r.Covariance.Components99 / (double)D, 12);
    }

    [Fact]
    public void Isotropic_noise_needs_almost_every_component()
    {
        using var g = new Generator(2);
        SpectrumResult r = Spectrum(randn([50_000, D], generator: g) * 2 + 1);
        Assert.InRange(r.Covariance.ParticipationRatio, 0.97 * D, D);                             // high: about d
        Assert.InRange(r.Covariance.Components50, D / 2 - 1, D / 2 + 1);
        Assert.InRange(r.Covariance.Components99, D - 1, D);
        Assert.Equal(4.0 * D, r.TotalVariance, 0.05 * D);
        Assert.Equal(1.0 / D, r.Covariance.TopFractions[0], 0.01);
    }

    [Fact]
    public void Standardising_removes_a_dimension_that_dominates_only_by_scale()
    {
        using var g = new Generator(3);
        Tensor x = randn([50_000, D], generator: g);
        x[.., 0] *= 1000;
        SpectrumResult r = Spectrum(x);
        Assert.InRange(r.Covariance.ParticipationRatio, 1.0, 1.01);
        Assert.Equal(1, r.Covariance.Components90);
        Assert.InRange(r.Correlation.ParticipationRatio, 0.97 * D, D);
        Assert.Equal(0, r.ConstantDimensions);
    }

    [Fact]
    public void Token_id_share_is_near_one_when_the_activation_is_the_tokens_embedding_and_near_zero_when_unrelated()
    {
        using var g = new Generator(4);
        const int n = 40_000, vocab = 20;
        Tensor ids = randint(vocab, [n], generator: g);
        Tensor embedding = randn([vocab, D], generator: g) * 3;
        Tensor explained = embedding[ids] + 0.01f * randn([n, D], generator: g);
        Tensor unrelated = randn([n, D], generator: g);
        Tensor positions = randint(8, [n], generator: g);

        SpectrumResult high = Spectrum(explained, ids, positions);
        Assert.InRange(high.TokenIdShare, 0.999, 1.0);
        Assert.InRange(high.PositionShare, 0, 0.01);
        Assert.Equal(vocab, high.TokenIds);

        SpectrumResult low = Spectrum(unrelated, ids, positions);
        // In-sample: noise alone gives about (G - 1) / n.
        Assert.InRange(low.TokenIdShare, 0, 5.0 * (vocab - 1) / n);
        Assert.InRange(low.PositionShare, 0, 5.0 * 7 / n);
    }

    [Fact]
    public void Shares_match_a_hand_computed_example_and_skip_rows_not_kept()
    {
        // 1-d values {0, 2} in group 0 and {4, 6} in group 1, plus one dropped row: mean 3, total SS 20,
        // group means 1 and 5, between SS 2*4 + 2*4 = 16.
        var acc = new ActivationSpectrumAccumulator(1);
        acc.Add(tensor(new float[] { 0, 2, 4, 6, 100 }).reshape(5, 1), tensor(new[] { true, true, true, true, false }),
            tensor(new long[] { 0, 0, 1, 1, 1 }), tensor(new long[] { 0, 1, 0, 1, 0 }));
        SpectrumResult r = acc.Result();
        Assert.Equal(4, r.Tokens);
        Assert.Equal(5.0, r.TotalVariance, 12);
        Assert.Equal(16.0 / 20, r.TokenIdShare, 12);
        // Positions: {0, 4} mean 2 and {2, 6} mean 4 -> between SS 2*1 + 2*1 = 4.
        Assert.Equal(4.0 / 20, r.PositionShare, 12);
    }

    [Fact]
    public void Batches_pool_into_the_same_result_as_one_batch()
    {
        using var g = new Generator(5);
        Tensor x = Subspace(4_000, 6, g) + 0.1f * randn([4_000, D], generator: g);
        Tensor ids = randint(30, [4_000], generator: g);
        Tensor positions = randint(16, [4_000], generator: g);
        Tensor keep = ones([4_000], ScalarType.Bool);
        var whole = new ActivationSpectrumAccumulator(D);
        whole.Add(x, keep, ids, positions);
        var split = new ActivationSpectrumAccumulator(D);
        split.Add(x[..1500], keep[..1500], ids[..1500], positions[..1500]);
        split.Add(x[1500..], keep[1500..], ids[1500..], positions[1500..]);
        SpectrumResult a = whole.Result(), b = split.Result();
        Assert.Equal(a.Covariance.ParticipationRatio, b.Covariance.ParticipationRatio, 9);
        Assert.Equal(a.Correlation.ParticipationRatio, b.Correlation.ParticipationRatio, 9);
        Assert.Equal(a.TokenIdShare, b.TokenIdShare, 9);
        Assert.Equal(a.PositionShare, b.PositionShare, 9);
        Assert.Equal(a.Covariance.Components90, b.Covariance.Components90);
    }
    [Fact]
    public void Constant_dimensions_are_left_out_of_the_correlation_matrix()
    {
        using var g = new Generator(6);
        Tensor x = randn([5_000, D], generator: g);
        x[.., 3] = tensor(7f);
        SpectrumResult some = Spectrum(x);
        Assert.Equal(1, some.ConstantDimensions);
        Assert.InRange(some.Correlation.ParticipationRatio, 0.95 * (D - 1), D - 1);

        SpectrumResult none = Spectrum(full([100, D], 2f));
        Assert.Equal(D, none.ConstantDimensions);
        Assert.Equal(0, none.Correlation.Components99);
        Assert.Equal(0.0, none.TotalVariance, 12);
    }
}

