using System.Diagnostics;
using TemporalSae.Evals.Probing;
using Xunit.Abstractions;

namespace TemporalSae.Tests.Evals.Probing;

public sealed class LogisticRegressionTests(ITestOutputHelper output)
{
    /// <summary>Gaussian features whose label depends noisily on the first two: not separable, so every weight matters.</summary>
    static (FeatureMatrix X, bool[] Y) Noisy(int n, int d, int seed)
    {
        var random = new Random(seed);
        var values = new float[n * d];
        var y = new bool[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) values[i * d + j] = (float)(random.NextDouble() * 2 - 1 + (j == 2 ? 3 : 0));
            y[i] = values[i * d] + 0.5 * values[i * d + 1] + 0.8 * (random.NextDouble() * 2 - 1) > 0;
        }
        return (new FeatureMatrix(values, n, d), y);
    }

    static double[][] Standardised(LogisticRegression probe, FeatureMatrix x) =>
        Enumerable.Range(0, x.Rows).Select(i => probe.Standardise(x.Row(i))).ToArray();

    [Theory]
    [InlineData(80, 6)]     // fewer features than examples: the Hessian is factorised directly
    [InlineData(30, 120)]   // more features than examples: the step goes through the n x n Woodbury system
    public void Fit_is_a_stationary_point_and_a_minimum_of_the_penalised_loss(int n, int d)
    {
        (FeatureMatrix x, bool[] y) = Noisy(n, d, seed: 7);
        const double l2 = 0.7;
        var probe = LogisticRegression.Fit(x, y, l2);
        double[][] xs = Standardised(probe, x);

        (double loss, double[] gw, double gb) = LogisticRegression.Objective(xs, y, l2, probe.Weights, probe.Bias);
        double maxGradient = Math.Max(gw.Max(Math.Abs), Math.Abs(gb));
        output.WriteLine($"loss {loss}, max |gradient| {maxGradient:E2}, iterations {probe.Iterations}");
        Assert.True(maxGradient < 1e-8, $"max |gradient| {maxGradient:E2} at the fit");

        var random = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            double size = trial < 10 ? 1e-3 : 0.1;
            double[] w = probe.Weights.Select(v => v + size * (random.NextDouble() * 2 - 1)).ToArray();
            double b = probe.Bias + size * (random.NextDouble() * 2 - 1);
            double perturbed = LogisticRegression.Objective(xs, y, l2, w, b).Loss;
            Assert.True(perturbed > loss, $"perturbed loss {perturbed} <= fitted loss {loss}");
        }
    }

    // One feature x = +-1; at x = +1 three positives and one negative, at x = -1 the mirror image. By symmetry b = 0,
    // and the gradient 2 (4 sigmoid(w) - 3) + l2 w vanishes at w = ln 2 when l2 = 2 / (3 ln 2).
    static (FeatureMatrix X, bool[] Y) Mirrored(int copies)
    {
        float[] feature = [1, 1, 1, 1, -1, -1, -1, -1];
        bool[] y = [true, true, true, false, false, false, false, true];
        var values = new float[feature.Length * copies];
        for (int i = 0; i < feature.Length; i++)
            for (int c = 0; c < copies; c++) values[i * copies + c] = feature[i];
        return (new FeatureMatrix(values, feature.Length, copies), y);
    }

    [Fact]
    public void One_feature_symmetric_data_gives_the_hand_derived_weight()
    {
        (FeatureMatrix x, bool[] y) = Mirrored(copies: 1);
        var probe = LogisticRegression.Fit(x, y, l2: 2 / (3 * Math.Log(2)));
        Assert.Equal(0, probe.Mean[0], 12);
        Assert.Equal(1, probe.Scale[0], 12);
        Assert.Equal(Math.Log(2), probe.Weights[0], 1e-6);
        Assert.Equal(0, probe.Bias, 1e-6);
    }

    [Fact]
    public void Duplicated_feature_on_the_wide_path_splits_the_same_weight_evenly()
    {
        // 20 copies of the feature (more features than the 8 examples): the penalty l2/2 sum w_j^2 is smallest with
        // equal w_j, so l2 = 20 * 2 / (3 ln 2) gives each copy ln 2 / 20 and the same logits as the one-feature fit.
        (FeatureMatrix x, bool[] y) = Mirrored(copies: 20);
        var probe = LogisticRegression.Fit(x, y, l2: 20 * 2 / (3 * Math.Log(2)));
        foreach (double w in probe.Weights) Assert.Equal(Math.Log(2) / 20, w, 1e-8);
        Assert.Equal(0, probe.Bias, 1e-8);
    }

    [Fact]
    public void Separable_data_with_a_penalty_converges_to_a_finite_solution()
    {
        var values = new float[] { -3, -2, -1.5f, -1, 1, 1.5f, 2, 3 };
        bool[] y = values.Select(v => v > 0).ToArray();
        var x = new FeatureMatrix(values, values.Length, 1);
        var probe = LogisticRegression.Fit(x, y, l2: 1);
        Assert.True(probe.Iterations < 50, $"{probe.Iterations} iterations");
        Assert.True(double.IsFinite(probe.Weights[0]) && probe.Weights[0] > 0 && probe.Weights[0] < 100, $"w = {probe.Weights[0]}");
        var (_, gw, gb) = LogisticRegression.Objective(Standardised(probe, x), y, 1, probe.Weights, probe.Bias);
        Assert.True(Math.Abs(gw[0]) < 1e-9 && Math.Abs(gb) < 1e-9, $"gradient {gw[0]:E2}, {gb:E2}");
        Assert.Equal(1.0, probe.Accuracy(x, y));
    }

    [Fact]
    public void Constant_features_are_dropped_with_zero_weight()
    {
        (FeatureMatrix noisy, bool[] y) = Noisy(40, 3, seed: 1);
        var values = new float[40 * 4];
        for (int i = 0; i < 40; i++)
        {
            noisy.Row(i).CopyTo(values.AsSpan(i * 4, 3));
            values[i * 4 + 3] = 0.1f;
        }
        var probe = LogisticRegression.Fit(new FeatureMatrix(values, 40, 4), y, l2: 1);
        Assert.Equal(0, probe.Scale[3]);
        Assert.Equal(0, probe.Weights[3]);
        Assert.NotEqual(0, probe.Weights[0]);
    }

    [Fact]
    public void Full_sae_width_fit_takes_seconds_at_most()
    {
        // The size of a full-width SAE probe: 512 training examples, 4096 latents, mostly zero as SAE codes are.
        const int n = 512, d = 4096;
        var random = new Random(5);
        var values = new float[n * d];
        var y = new bool[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 2 == 0;
            for (int j = 0; j < d; j++)
                if (random.NextDouble() < 0.05) values[i * d + j] = (float)(random.NextDouble() + (y[i] && j < 8 ? 0.5 : 0));
        }
        var x = new FeatureMatrix(values, n, d);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var probe = LogisticRegression.Fit(x, y, l2: 1);
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // Wall time depends on what else shares the CPU; CPU seconds show the cost itself.
        output.WriteLine($"{n} x {d}: {clock.Elapsed.TotalSeconds:F2} s wall, {cpu.TotalSeconds:F2} s CPU, {probe.Iterations} Newton steps");
        var (_, gw, gb) = LogisticRegression.Objective(Standardised(probe, x), y, 1, probe.Weights, probe.Bias);
        Assert.True(Math.Max(gw.Max(Math.Abs), Math.Abs(gb)) < 1e-6);
        Assert.True(clock.Elapsed.TotalSeconds < 20, $"full-width fit took {clock.Elapsed.TotalSeconds:F1} s");
    }
}
