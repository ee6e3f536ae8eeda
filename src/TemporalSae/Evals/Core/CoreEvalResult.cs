// The core evaluation's result with SAEBench's eval_result_metrics names and grouping
// (explained_variance_legacy added under reconstruction_quality, unknown_targets beside token_stats).
using System.Text.Json.Nodes;

namespace TemporalSae.Evals.Core;

public sealed record ModelBehaviorPreservation(double KlDivScore, double KlDivWithAblation, double KlDivWithSae);

public sealed record ModelPerformancePreservation(double CeLossScore, double CeLossWithAblation, double CeLossWithSae, double CeLossWithoutSae);

public sealed record ReconstructionQuality(double ExplainedVariance, double ExplainedVarianceLegacy, double Mse, double Cossim);

public sealed record Shrinkage(double L2NormIn, double L2NormOut, double L2Ratio, double RelativeReconstructionBias);

public sealed record Sparsity(double L0, double L1);

public sealed record TokenStats(long TotalTokensEvalReconstruction, long TotalTokensEvalSparsityVariance);

/// <summary>Positions left out of CE and KL because their target is the subject model's unknown id (null: none).</summary>
public sealed record UnknownTargets(long Excluded, long? UnknownId)
{
    public const string Note =
        "positions whose next-token target is the unknown id of the subject model are left out of CE and KL " +
        "(KL at a position is dropped when the next token is unknown; the last position of a window stays)";

    public JsonObject ToJson() => new()
    {
        ["excluded_unknown_targets"] = Excluded,
        ["unknown_id"] = UnknownId is long id ? JsonValue.Create(id) : null,
        ["note"] = Note,
    };
}

public sealed record CoreEvalResult(
    ModelBehaviorPreservation ModelBehaviorPreservation,
    ModelPerformancePreservation ModelPerformancePreservation,
    ReconstructionQuality ReconstructionQuality,
    Shrinkage Shrinkage,
    Sparsity Sparsity,
    TokenStats TokenStats,
    UnknownTargets UnknownTargets)
{
    public JsonObject ToJson() => new()
    {
        ["model_behavior_preservation"] = new JsonObject
        {
            ["kl_div_score"] = ModelBehaviorPreservation.KlDivScore,
            ["kl_div_with_ablation"] = ModelBehaviorPreservation.KlDivWithAblation,
            ["kl_div_with_sae"] = ModelBehaviorPreservation.KlDivWithSae,
        },
        ["model_performance_preservation"] = new JsonObject
        {
            ["ce_loss_score"] = ModelPerformancePreservation.CeLossScore,
            ["ce_loss_with_ablation"] = ModelPerformancePreservation.CeLossWithAblation,
            ["ce_loss_with_sae"] = ModelPerformancePreservation.CeLossWithSae,
            ["ce_loss_without_sae"] = ModelPerformancePreservation.CeLossWithoutSae,
        },
        ["reconstruction_quality"] = new JsonObject
        {
            ["explained_variance"] = ReconstructionQuality.ExplainedVariance,
            ["explained_variance_legacy"] = ReconstructionQuality.ExplainedVarianceLegacy,
            ["mse"] = ReconstructionQuality.Mse,
            ["cossim"] = ReconstructionQuality.Cossim,
        },
        ["shrinkage"] = new JsonObject
        {
            ["l2_norm_in"] = Shrinkage.L2NormIn,
            ["l2_norm_out"] = Shrinkage.L2NormOut,
            ["l2_ratio"] = Shrinkage.L2Ratio,
            ["relative_reconstruction_bias"] = Shrinkage.RelativeReconstructionBias,
        },
        ["sparsity"] = new JsonObject { ["l0"] = Sparsity.L0, ["l1"] = Sparsity.L1 },
        ["token_stats"] = new JsonObject
        {
            ["total_tokens_eval_reconstruction"] = TokenStats.TotalTokensEvalReconstruction,
            ["total_tokens_eval_sparsity_variance"] = TokenStats.TotalTokensEvalSparsityVariance,
        },
        ["unknown_targets"] = UnknownTargets.ToJson(),
    };
}
