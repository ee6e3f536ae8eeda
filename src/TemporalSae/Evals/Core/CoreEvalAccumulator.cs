// SAEBench's core evaluation (eval_result_metrics), pooled over every kept position of every batch, with the two
// corrections docs/science.md states: mse is the mean over tokens and dimensions, and explained_variance is
// 1 - E||x - x_hat||^2 / sum_d Var(x_d) (variance about the mean, pooled over all kept tokens). SAEBench's per-token
// value is kept as explained_variance_legacy = mean_t [1 - ||x_t - x_hat_t||^2 / ||x_t - mean(x)||^2], with mean(x)
// over the batch's kept tokens as SAEBench takes it. Sums are float64 so that pooling many batches stays exact.
// With the subject model's unknown id given, positions whose next-token target is that id leave CE and KL alike: the
// unknown id stands for every GPT-2 id outside the built-in model's vocabulary, so predicting it is not a prediction.
using static TorchSharp.torch;

namespace TemporalSae.Evals.Core;

/// <param name="unknownId">The subject model's unknown id (null: a model without a vocabulary map, nothing excluded).</param>
public sealed class CoreEvalAccumulator(long? unknownId = null)
{
    // Reconstruction and sparsity, over tokens kept (non-special).
    long tokens;
    double squaredErrorSum, normInSum, normOutSum, ratioSum, cosineSum, outSquaredSum, innerSum, l0Sum, l1Sum, legacySum;
    double[]? featureSum, featureSquaredSum;
    int dIn;

    // Model behaviour: KL over positions whose input token is not special; CE over next-token predictions; both
    // without the positions whose target is the unknown id.
    long klPositions, cePositions, excludedUnknownTargets;
    double klSaeSum, klAblationSum, ceCleanSum, ceSaeSum, ceAblationSum;

    /// <summary>
    /// x, x_hat [.., d_in] and f [.., d_sae] with the same leading shape as <paramref name="keep"/> (bool, true for
    /// tokens that count).
    /// </summary>
    public void AddReconstruction(Tensor x, Tensor xHat, Tensor features, Tensor keep)
    {
        using var scope = NewDisposeScope();
        dIn = (int)x.shape[^1];
        Tensor mask = keep.reshape(-1);
        Tensor xs = x.reshape(-1, dIn)[mask].to(ScalarType.Float64);                // [n, d_in]
        Tensor hats = xHat.reshape(-1, dIn)[mask].to(ScalarType.Float64);
        Tensor f = features.reshape(-1, features.shape[^1])[mask].to(ScalarType.Float64);
        long n = xs.shape[0];
        if (n == 0) return;

        Tensor error = (xs - hats).square().sum(-1);                                  // [n]
        Tensor normIn = xs.norm(dim: -1);
        Tensor normOut = hats.norm(dim: -1);
        Tensor inner = (xs * hats).sum(-1);
        tokens += n;
        squaredErrorSum += error.sum().item<double>();
        normInSum += normIn.sum().item<double>();
        normOutSum += normOut.sum().item<double>();
        ratioSum += (normOut / normIn.clamp_min(1e-12)).sum().item<double>();
        cosineSum += (inner / (normIn * normOut).clamp_min(1e-12)).sum().item<double>();
        outSquaredSum += normOut.square().sum().item<double>();
        innerSum += inner.sum().item<double>();
        l0Sum += (f != 0).sum().item<long>();
        l1Sum += f.sum().item<double>();
        Tensor centred = (xs - xs.mean([0], keepdim: true)).square().sum(-1);
        legacySum += (1 - error / centred.clamp_min(1e-12)).sum().item<double>();

        featureSum ??= new double[dIn];
        featureSquaredSum ??= new double[dIn];
        double[] sums = xs.sum(dim: 0).data<double>().ToArray();
        double[] squares = xs.square().sum(dim: 0).data<double>().ToArray();
        for (int d = 0; d < dIn; d++)
        {
            featureSum[d] += sums[d];
            featureSquaredSum[d] += squares[d];
        }
    }

    /// <summary>
    /// Logits [B, T, V] of the clean pass, the pass with the SAE spliced in and the pass with the hook zero-ablated,
    /// for input ids [B, T] whose special tokens are marked in <paramref name="special"/> [B, T].
    /// </summary>
    public void AddLogits(Tensor inputIds, Tensor special, Tensor cleanLogits, Tensor saeLogits, Tensor ablatedLogits)
    {
        using var scope = NewDisposeScope();
        // float32 log-softmax is exact to ~1e-7 relative; the pooled sums below are float64.
        Tensor clean = cleanLogits.to(ScalarType.Float32).log_softmax(-1);          // [B, T, V]
        Tensor sae = saeLogits.to(ScalarType.Float32).log_softmax(-1);
        Tensor ablated = ablatedLogits.to(ScalarType.Float32).log_softmax(-1);
        Tensor inputKept = special.logical_not();                                     // [B, T]

        // Position t's target is token t+1; the last position has none in the window and stays in KL.
        Tensor unknownTarget = zeros_like(inputKept);                                 // [B, T]
        if (unknownId is long unknown)
            unknownTarget[.., ..^1] = inputIds[.., 1..].eq(unknown);
        Tensor keep = inputKept.logical_and(unknownTarget.logical_not());
        excludedUnknownTargets += inputKept.logical_and(unknownTarget).sum().item<long>();

        Tensor pClean = clean.exp();
        Tensor klSae = (pClean * (clean - sae)).sum(-1);                              // [B, T]
        Tensor klAblated = (pClean * (clean - ablated)).sum(-1);
        klPositions += keep.sum().item<long>();
        klSaeSum += klSae[keep].to(ScalarType.Float64).sum().item<double>();
        klAblationSum += klAblated[keep].to(ScalarType.Float64).sum().item<double>();

        // Position t predicts token t+1; the term is dropped when the input token at t is special or the target unknown.
        Tensor targets = inputIds[.., 1..].unsqueeze(-1);                             // [B, T-1, 1]
        Tensor keepCe = keep[.., ..^1];                                               // [B, T-1]
        double Nll(Tensor logProbs) => -logProbs[.., ..^1].gather(-1, targets).squeeze(-1)[keepCe].to(ScalarType.Float64).sum().item<double>();
        cePositions += keepCe.sum().item<long>();
        ceCleanSum += Nll(clean);
        ceSaeSum += Nll(sae);
        ceAblationSum += Nll(ablated);
    }

    public CoreEvalResult Result()
    {
        if (tokens == 0 || klPositions == 0 || cePositions == 0)
            throw new Infrastructure.RunFailedException("the core evaluation saw no non-special tokens; raise evals.core.tokens");
        double totalVariance = 0;
        for (int d = 0; d < dIn; d++)
        {
            double mean = featureSum![d] / tokens;
            totalVariance += featureSquaredSum![d] / tokens - mean * mean;
        }
        double klSae = klSaeSum / klPositions, klAblation = klAblationSum / klPositions;
        double ceClean = ceCleanSum / cePositions, ceSae = ceSaeSum / cePositions, ceAblation = ceAblationSum / cePositions;
        return new CoreEvalResult(
            new ModelBehaviorPreservation((klAblation - klSae) / klAblation, klAblation, klSae),
            new ModelPerformancePreservation((ceAblation - ceSae) / (ceAblation - ceClean), ceAblation, ceSae, ceClean),
            new ReconstructionQuality(
                1 - squaredErrorSum / tokens / totalVariance,
                legacySum / tokens,
                squaredErrorSum / tokens / dIn,
                cosineSum / tokens),
            new Shrinkage(normInSum / tokens, normOutSum / tokens, ratioSum / tokens, outSquaredSum / innerSum),
            new Sparsity(l0Sum / tokens, l1Sum / tokens),
            new TokenStats(klPositions, tokens),
            new UnknownTargets(excludedUnknownTargets, unknownId));
    }
}
