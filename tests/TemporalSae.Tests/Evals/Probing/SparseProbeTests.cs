using TemporalSae.Evals.Probing;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Probing;

public sealed class SparseProbeTests
{
    const int Planted = 17;

    /// <summary>Balanced examples over 50 latents: latent 17 is the label plus small noise, the rest pure noise.</summary>
    static ProbeExamples PlantedExamples(int perClass, int seed)
    {
        const int latents = 50;
        var random = new Random(seed);
        int n = 2 * perClass;
        var values = new float[n * latents];
        var y = new bool[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i < perClass;
            for (int j = 0; j < latents; j++) values[i * latents + j] = (float)random.NextDouble();
            values[i * latents + Planted] = (y[i] ? 1 : 0) + 0.2f * (float)(random.NextDouble() - 0.5);
        }
        return new ProbeExamples(new FeatureMatrix(values, n, latents), y);
    }

    [Fact]
    public void A_k1_probe_finds_the_planted_latent_and_noise_alone_is_chance()
    {
        ProbeExamples train = PlantedExamples(128, seed: 1), test = PlantedExamples(200, seed: 2);
        Assert.Equal([Planted], SparseProbe.TopColumns(train.X, train.Y, 1));

        ProbeAccuracies withPlanted = SparseProbe.Evaluate(train, test, [1, 5], l2: 1);
        Assert.Equal(1, withPlanted.TopK[0].K);
        Assert.True(withPlanted.TopK[0].Accuracy > 0.99, $"top-1 accuracy {withPlanted.TopK[0].Accuracy}");
        Assert.True(withPlanted.FullWidth > 0.95, $"full-width accuracy {withPlanted.FullWidth}");

        int[] noise = Enumerable.Range(0, 50).Where(j => j != Planted).ToArray();
        var noiseTrain = new ProbeExamples(train.X.SelectColumns(noise), train.Y);
        var noiseTest = new ProbeExamples(test.X.SelectColumns(noise), test.Y);
        ProbeAccuracies noiseOnly = SparseProbe.Evaluate(noiseTrain, noiseTest, [1, 5], l2: 1);
        foreach (double accuracy in noiseOnly.TopK.Select(t => t.Accuracy).Append(noiseOnly.FullWidth))
            Assert.InRange(accuracy, 0.38, 0.62);
    }

    [Fact]
    public void Ranking_orders_by_absolute_mean_gap_and_breaks_ties_by_index()
    {
        // Column gaps (positive mean - negative mean): 1, -3, 0, 3, 2.
        float[] values = [1, 0, 5, 3, 2, /* negative: */ 0, 3, 5, 0, 0];
        var x = new FeatureMatrix(values, 2, 5);
        Assert.Equal([1, 3, 4, 0], SparseProbe.TopColumns(x, [true, false], 4));
    }

    [Fact]
    public void Balanced_draws_are_balanced_within_their_pools_and_fixed_by_the_seed()
    {
        int[] positives = Enumerable.Range(0, 40).ToArray();
        int[] negatives = Enumerable.Range(100, 500).ToArray();
        var (pos, neg) = BalancedSampler.Draw(positives, negatives, perClass: 25, seed: 9);
        Assert.Equal(25, pos.Length);
        Assert.Equal(25, neg.Length);
        Assert.Equal(25, pos.Distinct().Count());
        Assert.Equal(25, neg.Distinct().Count());
        Assert.All(pos, p => Assert.Contains(p, positives));
        Assert.All(neg, n => Assert.Contains(n, negatives));

        var again = BalancedSampler.Draw(positives, negatives, perClass: 25, seed: 9);
        Assert.Equal(pos, again.Positives);
        Assert.Equal(neg, again.Negatives);
        Assert.NotEqual(neg, BalancedSampler.Draw(positives, negatives, perClass: 25, seed: 10).Negatives);

        // The smaller pool caps both classes.
        var capped = BalancedSampler.Draw(positives[..7], negatives, perClass: 25, seed: 9);
        Assert.Equal(7, capped.Positives.Length);
        Assert.Equal(7, capped.Negatives.Length);
    }

    [Fact]
    public void Mean_pooling_skips_special_tokens()
    {
        // Two windows of three tokens, two features; window 0 opens with a special token holding a huge value.
        using var values = tensor(new float[] { 100, -100, 1, 2, 3, 4, /* window 1: */ 5, 6, 7, 8, 9, 10 }, [2, 3, 2]);
        using var special = tensor(new[] { true, false, false, false, false, false }, [2, 3]);
        using var pooled = ProbeFeatures.MeanPool(values, special);
        Assert.Equal([2L, 2L], pooled.shape);
        Assert.Equal([2f, 3f, 7f, 8f], pooled.data<float>().ToArray());
    }
}
