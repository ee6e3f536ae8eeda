using TemporalSae.Evals.Core;
using TemporalSae.Models;
using TemporalSae.Tests.Models;
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
    [Fact]
    public void Unknown_targets_leave_ce_and_kl_on_a_tiny_model_and_nothing_is_left_out_without_an_unknown_id()
    {
        // A tiny GPT-2 (vocabulary 50) whose last id, 49, plays the unknown id; the window's first token is special.
        const long unknown = 49;
        using var model = new Gpt2Model(TinyGpt2.Config(layers: 2), seed: 21);
        Tensor ids = TinyGpt2.Ids(5, batch: 3, length: 10);
        ids[.., 4] = tensor(unknown);
        ids[0, 7] = tensor(unknown);
        Tensor special = zeros([3, 10], ScalarType.Bool);
        special[.., 0] = tensor(true);
        Tensor clean, sae;
        using (no_grad())
        {
            clean = model.Forward(ids).Logits!;
            sae = model.Forward(ids, new ResidHook(0, Replace: r => r * 0.9f)).Logits!;
        }
        Tensor ablated = zeros_like(clean);

        // By hand: CE over t = 1..8 (t = 0 special) whose target ids[t+1] is not unknown; KL over t = 1..9 whose
        // target is not unknown (t = 9 has no target and stays).
        Tensor lc = clean.log_softmax(-1), ls = sae.log_softmax(-1), la = ablated.log_softmax(-1);
        long[] flat = ids.reshape(-1).data<long>().ToArray();
        double ceClean = 0, ceSae = 0, klSae = 0, klAbl = 0;
        int cePositions = 0, klPositions = 0, excluded = 0;
        for (int b = 0; b < 3; b++)
            for (int t = 1; t < 10; t++)
            {
                bool hasTarget = t < 9;
                if (hasTarget && flat[b * 10 + t + 1] == unknown) { excluded++; continue; }
                Tensor p = lc[b, t].exp();
                klSae += (p * (lc[b, t] - ls[b, t])).sum().item<float>();
                klAbl += (p * (lc[b, t] - la[b, t])).sum().item<float>();
                klPositions++;
                if (!hasTarget) continue;
                long target = flat[b * 10 + t + 1];
                ceClean -= lc[b, t, target].item<float>();
                ceSae -= ls[b, t, target].item<float>();
                cePositions++;
            }

        var acc = new CoreEvalAccumulator(unknown);
        acc.AddReconstruction(ones(3, 10, 2), ones(3, 10, 2), ones(3, 10, 1), special.logical_not());
        acc.AddLogits(ids, special, clean, sae, ablated);
        CoreEvalResult r = acc.Result();
        Assert.Equal(4, excluded);                                       // three at position 3, one at position 6
        Assert.Equal(excluded, r.UnknownTargets.Excluded);
        Assert.Equal(klPositions, r.TokenStats.TotalTokensEvalReconstruction);
        Assert.Equal(ceClean / cePositions, r.ModelPerformancePreservation.CeLossWithoutSae, 1e-4);
        Assert.Equal(ceSae / cePositions, r.ModelPerformancePreservation.CeLossWithSae, 1e-4);
        Assert.Equal(klSae / klPositions, r.ModelBehaviorPreservation.KlDivWithSae, 1e-5);
        Assert.Equal(klAbl / klPositions, r.ModelBehaviorPreservation.KlDivWithAblation, 1e-4);

        var none = new CoreEvalAccumulator();
        none.AddReconstruction(ones(3, 10, 2), ones(3, 10, 2), ones(3, 10, 1), special.logical_not());
        none.AddLogits(ids, special, clean, sae, ablated);
        CoreEvalResult all = none.Result();
        Assert.Equal(0, all.UnknownTargets.Excluded);
        Assert.Null(all.UnknownTargets.UnknownId);
        Assert.Equal(27, all.TokenStats.TotalTokensEvalReconstruction);
    }

    [Fact]
    public void A_model_that_predicts_the_unknown_id_well_no_longer_looks_good()
    {
        // Every target but one is the unknown id 2, which the clean logits predict with near certainty; the one
        // known target (id 1) gets little mass. Counting unknown targets would make CE look near zero.
        var ids = tensor(new long[] { 0, 2, 2, 2, 1, 2 }).reshape(1, 6);
        var special = zeros([1, 6], ScalarType.Bool);
        var clean = tensor(new float[] { 0, 0, 9, 0, 0, 9, 0, 0, 9, 0, 0, 9, 0, 0, 9, 0, 0, 9 }).reshape(1, 6, 3);
        var ablated = zeros(1, 6, 3);

        var counted = new CoreEvalAccumulator();
        counted.AddReconstruction(ones(1, 6, 2), ones(1, 6, 2), ones(1, 6, 1), special.logical_not());
        counted.AddLogits(ids, special, clean, clean, ablated);
        var excluded = new CoreEvalAccumulator(2);
        excluded.AddReconstruction(ones(1, 6, 2), ones(1, 6, 2), ones(1, 6, 1), special.logical_not());
        excluded.AddLogits(ids, special, clean, clean, ablated);

        double logZ = Math.Log(2 + Math.Exp(9));
        Assert.InRange(counted.Result().ModelPerformancePreservation.CeLossWithoutSae, 0, 2.0);       // low: looks good
        // Only position 3 (target 1) is scored: -log p(1) = logZ, high.
        Assert.Equal(logZ, excluded.Result().ModelPerformancePreservation.CeLossWithoutSae, 1e-4);
        Assert.Equal(4, excluded.Result().UnknownTargets.Excluded);
    }
}

