using TemporalSae.Evals.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Core;

/// <summary>Every core formula against values computed by hand (or by plain loops) on tiny inputs.</summary>
public class CoreEvalAccumulatorTests
{
    static Tensor T(float[] values, params long[] shape) => tensor(values).reshape(shape);

    [Fact]
    public void Reconstruction_metrics_match_hand_computed_values()
    {
        // Three tokens in 2 dimensions; the third is special and must be ignored everywhere.
        var x = T([3, 4, 0, 2, 100, 100], 3, 2);
        var xHat = T([3, 0, 0, 1, -7, 9], 3, 2);
        var f = T([1, 0, 2, 0.5f, 0, 0, 9, 9, 9], 3, 3);
        var keep = tensor(new[] { true, true, false });
        var acc = new CoreEvalAccumulator();
        acc.AddReconstruction(x, xHat, f, keep);
        acc.AddLogits(tensor(new long[] { 0, 1 }).reshape(1, 2), tensor(new[] { false, false }).reshape(1, 2),
            zeros(1, 2, 2), zeros(1, 2, 2), zeros(1, 2, 2).index_put_(tensor(1f), 0, 0, 1));
        CoreEvalResult r = acc.Result();

        // errors: token0 ||(0,4)||^2 = 16, token1 ||(0,1)||^2 = 1 -> mse = 17 / (2 tokens * 2 dims)
        Assert.Equal(17.0 / 4, r.ReconstructionQuality.Mse, 10);
        // Var over kept tokens: dim0 {3,0} -> 2.25, dim1 {4,2} -> 1; EV = 1 - (17/2) / 3.25
        Assert.Equal(1 - 8.5 / 3.25, r.ReconstructionQuality.ExplainedVariance, 10);
        // legacy: mean x = (1.5, 3); token0 1 - 16/(2.25+1); token1 1 - 1/(2.25+1)
        Assert.Equal(((1 - 16 / 3.25) + (1 - 1 / 3.25)) / 2, r.ReconstructionQuality.ExplainedVarianceLegacy, 10);
        // cos: token0 (3,4).(3,0) = 9 / (5*3); token1 (0,2).(0,1) = 2 / (2*1)
        Assert.Equal((9.0 / 15 + 1) / 2, r.ReconstructionQuality.Cossim, 10);
        Assert.Equal((5 + 2) / 2.0, r.Shrinkage.L2NormIn, 10);
        Assert.Equal((3 + 1) / 2.0, r.Shrinkage.L2NormOut, 10);
        Assert.Equal((3 / 5.0 + 1 / 2.0) / 2, r.Shrinkage.L2Ratio, 10);
        // E||x_hat||^2 / E<x, x_hat> = (9 + 1) / (9 + 2)
        Assert.Equal(10.0 / 11, r.Shrinkage.RelativeReconstructionBias, 10);
        Assert.Equal((2 + 1) / 2.0, r.Sparsity.L0, 10);
        Assert.Equal((3 + 0.5) / 2.0, r.Sparsity.L1, 10);
        Assert.Equal(2, r.TokenStats.TotalTokensEvalSparsityVariance);
    }

    // Log-softmax runs in float32 (exact to ~1e-7), so KL and CE are checked to 1e-5.
    [Fact]
    public void Kl_and_ce_pool_positions_and_drop_special_inputs()
    {
        // One sequence of 3 tokens, vocabulary 2. Position 0 is special (BOS): no KL there, and its CE term
        // (predicting token 1) is dropped. Positions 1 and 2 count for KL; only position 1 predicts a token (2).
        var ids = tensor(new long[] { 0, 1, 0 }).reshape(1, 3);
        var special = tensor(new[] { true, false, false }).reshape(1, 3);
        var clean = T([5, -5, 0, 0, 1, 0], 1, 3, 2);
        var sae = T([0, 0, 0, 1, 0, 1], 1, 3, 2);
        var ablated = T([0, 0, 2, 0, 0, 0], 1, 3, 2);
        var acc = new CoreEvalAccumulator();
        acc.AddReconstruction(ones(1, 3, 2), ones(1, 3, 2), ones(1, 3, 1), special.logical_not());
        acc.AddLogits(ids, special, clean, sae, ablated);
        CoreEvalResult r = acc.Result();

        static double[] LogSoftmax(double a, double b)
        {
            double m = Math.Max(a, b), z = m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
            return [a - z, b - z];
        }
        static double Kl(double[] p, double[] q) => Math.Exp(p[0]) * (p[0] - q[0]) + Math.Exp(p[1]) * (p[1] - q[1]);
        double[] c1 = LogSoftmax(0, 0), c2 = LogSoftmax(1, 0);
        double[] s1 = LogSoftmax(0, 1), s2 = LogSoftmax(0, 1);
        double[] a1 = LogSoftmax(2, 0), a2 = LogSoftmax(0, 0);
        double klSae = (Kl(c1, s1) + Kl(c2, s2)) / 2, klAbl = (Kl(c1, a1) + Kl(c2, a2)) / 2;
        Assert.Equal(klSae, r.ModelBehaviorPreservation.KlDivWithSae, 1e-5);
        Assert.Equal(klAbl, r.ModelBehaviorPreservation.KlDivWithAblation, 1e-5);
        Assert.Equal((klAbl - klSae) / klAbl, r.ModelBehaviorPreservation.KlDivScore, 1e-5);

        // Position 1 predicts ids[2] = 0.
        double ceClean = -c1[0], ceSae = -s1[0], ceAbl = -a1[0];
        Assert.Equal(ceClean, r.ModelPerformancePreservation.CeLossWithoutSae, 1e-5);
        Assert.Equal(ceSae, r.ModelPerformancePreservation.CeLossWithSae, 1e-5);
        Assert.Equal(ceAbl, r.ModelPerformancePreservation.CeLossWithAblation, 1e-5);
        Assert.Equal((ceAbl - ceSae) / (ceAbl - ceClean), r.ModelPerformancePreservation.CeLossScore, 1e-5);
        Assert.Equal(2, r.TokenStats.TotalTokensEvalReconstruction);
    }

    [Fact]
    public void Batches_pool_into_the_same_result_as_one_batch()
    {
        using var generator = new Generator(3);
        var x = randn([8, 4], generator: generator);
        var xHat = x + 0.3f * randn([8, 4], generator: generator);
        var f = nn.functional.relu(randn([8, 6], generator: generator));
        var logits = randn([2, 4, 5], generator: generator);
        var ids = randint(5, [2, 4], generator: generator);
        var special = zeros([2, 4], ScalarType.Bool);
        special[.., 0] = tensor(true);
        var keep = ones([8], ScalarType.Bool);

        var whole = new CoreEvalAccumulator();
        whole.AddReconstruction(x, xHat, f, keep);
        whole.AddLogits(ids, special, logits, logits * 0.5f, logits * 0);
        var split = new CoreEvalAccumulator();
        split.AddReconstruction(x[..4], xHat[..4], f[..4], keep[..4]);
        split.AddReconstruction(x[4..], xHat[4..], f[4..], keep[4..]);
        split.AddLogits(ids[..1], special[..1], logits[..1], logits[..1] * 0.5f, logits[..1] * 0);
        split.AddLogits(ids[1..], special[1..], logits[1..], logits[1..] * 0.5f, logits[1..] * 0);

        var a = whole.Result();
        var b = split.Result();
        Assert.Equal(a.ReconstructionQuality.ExplainedVariance, b.ReconstructionQuality.ExplainedVariance, 10);
        Assert.Equal(a.ModelPerformancePreservation.CeLossScore, b.ModelPerformancePreservation.CeLossScore, 10);
        Assert.Equal(a.ModelBehaviorPreservation.KlDivScore, b.ModelBehaviorPreservation.KlDivScore, 10);
        Assert.Equal(a.Sparsity.L0, b.Sparsity.L0, 10);
    }
}
