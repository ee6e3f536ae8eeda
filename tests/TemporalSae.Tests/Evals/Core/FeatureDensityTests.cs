// Held-out feature density on a tiny SAE whose firing rates are set by hand: W_enc = I and zero biases, so latent i
// fires exactly on the tokens whose coordinate i is positive.
using TemporalSae.Evals.Core;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Core;

public class FeatureDensityTests
{
    const int D = 4, Tokens = 1000;

    static SparseAutoencoder IdentitySae()
    {
        var sae = SaeRegistry.Default.Create(new SaeConfig { DSae = D }, D, seed: 1);
        using var noGrad = no_grad();
        var parameters = sae.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters["W_enc"].copy_(eye(D));
        parameters["b_enc"].zero_();
        parameters["b_dec"].zero_();
        return sae;
    }

    /// <summary>
    /// Tokens [1, Tokens + 2, D] (one window) in which latent i fires on the first firings[i] tokens, then two special
    /// tokens on which every latent fires (they must not count).
    /// </summary>
    static (ActivationBatch Batch, Tensor Keep) Window(int[] firings)
    {
        var x = new float[(Tokens + 2) * D];
        for (int i = 0; i < D; i++)
            for (int t = 0; t < Tokens + 2; t++)
                x[t * D + i] = t < firings[i] || t >= Tokens ? 1 : -1;
        var special = Enumerable.Range(0, Tokens + 2).Select(t => t >= Tokens).ToArray();
        var keep = tensor(special.Select(s => !s).ToArray(), [1, Tokens + 2]);
        return (new ActivationBatch(tensor(x, [1, Tokens + 2, D])), keep);
    }

    static FeatureDensity Measure(int[] firings, IReadOnlyList<LatentLevel>? levels = null)
    {
        var sae = IdentitySae();
        var density = new FeatureDensity(levels ?? sae.LatentLevels);
        var (batch, keep) = Window(firings);
        using var noGrad = no_grad();
        // Two batches of the same window: frequencies are pooled over batches.
        density.Add(sae.Encode(batch with { X = batch.X.view(-1, D) }).view(1, Tokens + 2, D), keep);
        density.Add(sae.Encode(batch with { X = batch.X.view(-1, D) }).view(1, Tokens + 2, D), keep);
        return density;
    }

    [Fact]
    public void Histogram_never_fired_alive_and_dense_of_known_rates()
    {
        // Frequencies 1e-3 (log10 -3: bin 6), 0.2 (log10 -0.70: bin 10, dense), 1 (log10 0: bin 11, dense), never.
        var density = Measure([1, 200, 1000, 0]);
        var level = Assert.Single(density.Result());
        Assert.Equal(2 * Tokens, density.Tokens);
        Assert.Equal("all", level.Level);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1 }, level.Histogram);
        Assert.Equal(1, level.NeverFired);
        Assert.Equal(0.75, level.AliveFraction, 12);
        Assert.Equal(0.5, level.DenseFraction, 12);

        var json = density.ToJson();
        Assert.Equal(13, json["bin_edges_log10"]!.AsArray().Count);
        Assert.Equal(-6, json["bin_edges_log10"]![0]!.GetValue<double>());
        Assert.Equal(0, json["bin_edges_log10"]![12]!.GetValue<double>());
        Assert.Equal(1, json["levels"]!["all"]!["never_fired"]!.GetValue<int>());
    }

    [Fact]
    public void Every_latent_alive_per_level()
    {
        // 1e-3 (bin 6), 0.01 (log10 -2: bin 8), 0.05 (log10 -1.30: bin 9), 0.5 (log10 -0.30: bin 11, dense).
        var density = Measure([1, 10, 50, 500], [new LatentLevel("fast", 0, 2), new LatentLevel("slow", 2, 4)]);
        var levels = density.Result();
        Assert.Equal(["fast", "slow"], levels.Select(l => l.Level).ToArray());
        Assert.All(levels, l => Assert.Equal(1.0, l.AliveFraction));
        Assert.All(levels, l => Assert.Equal(0, l.NeverFired));
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0 }, levels[0].Histogram);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 }, levels[1].Histogram);
        Assert.Equal(0.0, levels[0].DenseFraction);
        Assert.Equal(0.5, levels[1].DenseFraction);
    }

    [Theory]
    [InlineData(1.0, 11)]
    [InlineData(0.99, 11)]
    [InlineData(0.2, 10)]
    [InlineData(3e-6, 0)]
    [InlineData(1e-9, 0)]
    public void Bins_are_half_decades_from_one_in_a_million(double frequency, int bin) =>
        Assert.Equal(bin, FeatureDensity.Bin(frequency));
}
