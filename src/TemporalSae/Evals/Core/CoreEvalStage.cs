// The core evaluation stage: on held-out (test split) windows, three forward passes per batch, clean, with the SAE
// spliced in at the hook (SplicedForward), and with the hook zero-ablated, pooled into SAEBench's core metrics. Zero
// ablation zeroes every position, special ones included. Positions whose target is the subject model's unknown id
// leave CE and KL (CoreEvalAccumulator).
//
// The dense baseline (evals.core.pca_baseline): PCA fitted on the training activation store, the data the SAE was
// trained on, so that like the SAE it is scored out of sample on the held-out tokens; k = round(the SAE's L0 on these
// tokens). L0 is known only after the SAE has seen every batch, so a first, cheap pass (up to the hook, encode only)
// measures it; the main pass then splices PCA's reconstruction in beside the SAE's, scored by the same formulas.
using System.Text.Json.Nodes;
using TemporalSae.Activations;
using TemporalSae.Analysis;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Core;

public sealed class CoreEvalStage : EvalStage
{
    /// <summary>Store windows read per step while fitting the PCA baseline.</summary>
    const int FitWindowsPerRead = 32;

    public override string Name => "core";
    public override IReadOnlyList<string> DependsOn => [.. base.DependsOn, "activations"];
    // 4: feature_density.
    public override int Version => 4;

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        CoreEvalConfig core = config.Evals.Core;
        using var inputs = EvalInputs.Open(context);
        var windows = inputs.TestWindows(core.Tokens);
        long? unknownId = inputs.Subject.Vocab?.UnknownId;

        PcaFit? pca = null;
        if (core.PcaBaseline)
        {
            double saeL0 = MeasureL0(inputs, windows, core);
            int k = PcaComponents(saeL0, inputs.Sae.DIn);
            using ActivationStore store = ActivationsStage.Open(context.Input("activations"));
            ActivationSpectrumAccumulator moments = FitMoments(store, core.PcaFitTokens);
            pca = new PcaFit(PrincipalComponents.Fit(moments, k), saeL0, moments.Count);
            context.Log.WriteLine($"[core] PCA baseline: k = {k} (SAE L0 {saeL0:F2}), fitted on {moments.Count} training tokens");
        }

        try
        {
            var accumulator = new CoreEvalAccumulator(unknownId);
            var pcaAccumulator = new CoreEvalAccumulator(unknownId);
            IReadOnlyList<LatentLevel> levels = inputs.Sae.LatentLevels;
            if (levels.Count > 1) levels = [new LatentLevel("all", 0, inputs.Sae.DSae), .. levels];
            var density = new FeatureDensity(levels);
            using (no_grad())
            {
                foreach (EvalBatch batch in windows.Batches(core.BatchSize))
                {
                    using var scope = NewDisposeScope();
                    Tensor ids = inputs.Subject.ToModelIds(batch.TokenIds);
                    var spliced = inputs.Splice(batch, ids, core.ExcludeSpecialTokens);
                    Tensor ablatedLogits = inputs.Subject.Model.Forward(ids, new ResidHook(inputs.Layer, Replace: r => zeros_like(r))).Logits!;
                    Tensor keep = core.ExcludeSpecialTokens ? batch.Special.logical_not() : ones_like(batch.Special);
                    Tensor special = core.ExcludeSpecialTokens ? batch.Special : zeros_like(batch.Special);
                    accumulator.AddReconstruction(spliced.Activations, spliced.Reconstruction, spliced.Features, keep);
                    accumulator.AddLogits(ids, special, spliced.Clean.Logits!, spliced.SplicedLogits, ablatedLogits);
                    // Density is a property of the SAE on text: special tokens stay out whatever the splice does with them.
                    density.Add(spliced.Features, batch.Special.logical_not());

                    if (pca is null) continue;
                    spliced.SplicedLogits.Dispose();                                             // one [B, T, V] fewer alive
                    Tensor x = spliced.Activations;                                              // [B, T, d]
                    Tensor xPca = pca.Components.Reconstruct(x);
                    Tensor splice = core.ExcludeSpecialTokens ? where(batch.Special.unsqueeze(-1), x, xPca) : xPca;
                    Tensor pcaLogits = inputs.Subject.Model.Forward(ids, new ResidHook(inputs.Layer, Replace: _ => splice)).Logits!;
                    pcaAccumulator.AddReconstruction(x, xPca, pca.Components.Project(x), keep);
                    pcaAccumulator.AddLogits(ids, special, spliced.Clean.Logits!, pcaLogits, ablatedLogits);
                }
            }

            CoreEvalResult sae = accumulator.Result();
            JsonObject result = sae.ToJson();
            result["feature_density"] = density.ToJson();
            if (pca is not null) result["pca_baseline"] = PcaJson(pca, sae, pcaAccumulator.Result());
            return result;
        }
        finally
        {
            pca?.Components.Dispose();
        }
    }

    /// <summary>The PCA baseline's k: the SAE's L0 rounded (halves up), at least 1, at most d_in.</summary>
    public static int PcaComponents(double saeL0, int dIn) =>
        (int)Math.Clamp(Math.Round(saeL0, MidpointRounding.AwayFromZero), 1, dIn);

    sealed record PcaFit(PrincipalComponents Components, double SaeL0, long FitTokens);

    /// <summary>The SAE's L0 over the tokens core keeps, as CoreEvalAccumulator measures it.</summary>
    static double MeasureL0(EvalInputs inputs, EvalWindows windows, CoreEvalConfig core)
    {
        double active = 0;
        long tokens = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(core.BatchSize))
            {
                using var scope = NewDisposeScope();
                Tensor f = inputs.Sae.Encode(batch.Activations(inputs.HookActivations(batch.TokenIds)));  // [B, T, d_sae]
                Tensor keep = core.ExcludeSpecialTokens ? batch.Special.logical_not() : ones_like(batch.Special);
                active += f.ne(0).sum(-1)[keep].to(ScalarType.Float64).sum().item<double>();
                tokens += keep.sum().item<long>();
            }
        }
        if (tokens == 0)
            throw new Infrastructure.RunFailedException("the core evaluation saw no non-special tokens; raise evals.core.tokens");
        return active / tokens;
    }

    /// <summary>Mean and covariance of the store's first windows' non-special tokens, up to about <paramref name="tokens"/>.</summary>
    static ActivationSpectrumAccumulator FitMoments(ActivationStore store, long tokens)
    {
        var moments = new ActivationSpectrumAccumulator(store.DModel);
        int t = store.ContextSize, d = store.DModel;
        var values = new float[FitWindowsPerRead * t * d];
        for (int first = 0; first < store.NumSequences && moments.Count < tokens; first += FitWindowsPerRead)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(FitWindowsPerRead, store.NumSequences - first);
            for (int s = 0; s < count; s++)
                store.ReadSequence(first + s, values.AsSpan(s * t * d, t * d));
            Tensor x = tensor(values, [FitWindowsPerRead, t, d]).narrow(0, 0, count);             // [count, T, d]
            Tensor keep = tensor(store.Metadata.Special[(first * t)..((first + count) * t)], [count, t]).logical_not();
            moments.Add(x, keep);
        }
        return moments;
    }

    static JsonObject PcaJson(PcaFit pca, CoreEvalResult sae, CoreEvalResult dense) => new()
    {
        ["k"] = pca.Components.K,
        ["sae_l0"] = pca.SaeL0,
        ["fit"] = "training activation store",
        ["fit_tokens"] = pca.FitTokens,
        ["fit_explained_variance"] = pca.Components.FittedVarianceShare,
        ["explained_variance"] = dense.ReconstructionQuality.ExplainedVariance,
        ["mse"] = dense.ReconstructionQuality.Mse,
        ["cossim"] = dense.ReconstructionQuality.Cossim,
        ["ce_loss_score"] = dense.ModelPerformancePreservation.CeLossScore,
        ["ce_loss_with_pca"] = dense.ModelPerformancePreservation.CeLossWithSae,
        ["kl_div_score"] = dense.ModelBehaviorPreservation.KlDivScore,
        ["kl_div_with_pca"] = dense.ModelBehaviorPreservation.KlDivWithSae,
        ["sae_minus_pca_explained_variance"] = sae.ReconstructionQuality.ExplainedVariance - dense.ReconstructionQuality.ExplainedVariance,
        ["sae_minus_pca_ce_loss_score"] = sae.ModelPerformancePreservation.CeLossScore - dense.ModelPerformancePreservation.CeLossScore,
        ["note"] = "PCA (mean plus top-k directions) fitted on the training activation store, scored out of sample on the " +
                   "same held-out tokens and positions as the SAE; k = round(SAE L0), at least 1, at most d_in",
    };
}
