// The stage graph every manifest runs on: data -> subject_model -> activations -> sae -> evaluations.
using TemporalSae.Activations;
using TemporalSae.Data;
using TemporalSae.Evals.Capability;
using TemporalSae.Evals.Core;
using TemporalSae.Evals.Probing;
using TemporalSae.Evals.Smoothness;
using TemporalSae.Evals.Stability;
using TemporalSae.Evals.Unlearning;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Saes;
using TemporalSae.Training;

namespace TemporalSae.Pipeline;

public static class Stages
{
    public static StageRegistry Registry { get; } = For(SaeRegistry.Default);

    /// <summary>The stage graph whose sae stage knows <paramref name="architectures"/> (a run's RunEnvironment.Architectures).</summary>
    public static StageRegistry For(SaeRegistry architectures) => new([
        new DataStage(),
        new SubjectModelStage(),
        new ActivationsStage(),
        new SaeStage(architectures),
        new CoreEvalStage(),
        new CapabilityEvalStage(),
        new UnlearningEvalStage(),
        new SparseProbingEvalStage(),
        new StabilityEvalStage(),
        new SmoothnessEvalStage(),
    ]);

    /// <summary>The manifest's stage list with `evals` expanded into the enabled evaluations.</summary>
    public static IReadOnlyList<string> Requested(ExperimentConfig config) =>
        config.Stages.SelectMany(stage => stage == "evals" ? EnabledEvaluations(config) : [stage]).ToArray();

    static IEnumerable<string> EnabledEvaluations(ExperimentConfig config)
    {
        if (config.Evals.Core.Enabled) yield return "core";
        if (config.Evals.Capability.Enabled) yield return "capability";
        if (config.Evals.Unlearning.Enabled) yield return "unlearning";
        if (config.Evals.SparseProbing.Enabled) yield return "sparse_probing";
        if (config.Evals.Stability.Enabled) yield return "stability";
        if (config.Evals.Smoothness.Enabled) yield return "smoothness";
    }
}
