// The sae stage: trains the manifest's SAE architecture on the activation store and saves it in SAELens' layout,
// with the per-step losses as training_log.jsonl. What depends on the architecture (sequence or token batches, loss
// coefficients, memory estimate, cache version, export mapping) comes from its descriptor in the registry.
using System.Text.Json.Nodes;
using TemporalSae.Activations;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;

namespace TemporalSae.Training;

public sealed class SaeStage(SaeRegistry architectures) : Stage
{
    public const string SaeFolder = "sae";
    public const string LogFile = "training_log.jsonl";

    // Points of the training curve kept in the result: enough to plot, few enough to diff.
    const int CurvePoints = 40;

    public override string Name => "sae";
    public override IReadOnlyList<string> DependsOn => ["activations"];
    // 2: b_dec starts at the data mean. 4: the temporal SAE's kernel in the summary (temporal_kernel).
    public override int Version => 4;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject material = Sections(config, "sae", "training");
        material["architecture_version"] = architectures[config.Sae.Architecture].CacheVersion;
        return material;
    }

    /// <summary>training.seed when set (an SAE replicate), else the stage's seed derived from the root seed.</summary>
    public static long SaeSeed(TrainingConfig training, long stageSeed) =>
        training.Seed != 0 ? ContentHash.DeriveSeed(training.Seed, "sae") : stageSeed;

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        using ActivationStore store = ActivationsStage.Open(context.Input("activations"));
        SaeArchitecture architecture = architectures[config.Sae.Architecture];
        bool sequences = architecture.TrainsOnSequences;
        long seed = SaeSeed(config.Training, context.Seed);
        var source = new StoreBatchSource(store, sequences, config.Training.BatchSize, ContentHash.DeriveSeed(seed, "batches"));
        // Checked when the manifest was loaded too, where d_in was known; here it is the store's.
        var shapes = new SaeStepShapes(source.TokensPerStep, store.ContextSize, store.DModel, config.Sae.DSae);
        if (architecture.MemoryRefusal(shapes, config.Sae, config.Training.MemoryLimitMb) is { } refusal)
            throw new InvalidInputException(refusal);

        using SparseAutoencoder sae = architecture.Create(config.Sae, store.DModel, ContentHash.DeriveSeed(seed, "init"));
        var trainer = new SaeTrainer(config.Training, architecture.LossCoefficients(config.Training, config.Sae), context.Log);
        var outcome = trainer.Train(sae, source, context.ScratchFolder, config.Sae.NormalizeActivations != "none");
        // What a training step needs (the number gradient checkpointing is meant to lower), beside the stage's peak.
        context.Measurements["training_step_peak_mb"] = Math.Round(outcome.StepPeakBytes / 1048576.0, 1);

        AtomicFile.WriteAllText(Path.Combine(folder, LogFile), string.Join('\n', outcome.LogLines) + "\n");
        var metadata = new SaeLensMetadata(config.SubjectModel.Kind == "builtin" ? "temporalsae/brown-gpt2" : config.SubjectModel.Path,
            config.Activations.Hook, ManifestRules.HookLayer(config.Activations.Hook) ?? 0, store.ContextSize);
        SaeLensFormat.Export(sae, architecture, config.Sae, metadata, Path.Combine(folder, SaeFolder));

        var finalTerms = new JsonObject();
        foreach (var (name, value) in outcome.FinalTerms.OrderBy(t => t.Key, StringComparer.Ordinal)) finalTerms[name] = value;
        var summary = new JsonObject
        {
            ["architecture"] = config.Sae.Architecture,
            ["d_in"] = sae.DIn,
            ["d_sae"] = sae.DSae,
            ["steps"] = outcome.Steps,
            ["training_tokens"] = outcome.Tokens,
            ["batch"] = sequences ? "sequences" : "tokens",
            ["input_scale"] = outcome.InputScale,
            ["final_terms"] = finalTerms,
            ["final_l0"] = outcome.MeanL0,
            ["dead_latents"] = outcome.DeadLatents,
            ["dead_fraction"] = outcome.DeadFraction(sae.DSae),
            ["dead_window_tokens"] = outcome.DeadWindowTokens,
            ["training_curve"] = Curve(outcome.LogLines),
        };
        // After FoldInputScale, which leaves c as it is: the kernel acts on pre-activations, not on x.
        if (sae is TemporalSparseAutoencoder temporal) summary["temporal_kernel"] = TemporalKernelReport.ToJson(temporal);
        return summary;
    }

    /// <summary>The trained SAE of a built artifact.</summary>
    public static SparseAutoencoder Open(string artifactFolder, SaeRegistry architectures) =>
        SaeLensFormat.Import(Path.Combine(artifactFolder, SaeFolder), architectures).Sae;

    static JsonArray Curve(IReadOnlyList<string> lines)
    {
        var curve = new JsonArray();
        int every = Math.Max(1, (int)Math.Ceiling(lines.Count / (double)CurvePoints));
        for (int i = 0; i < lines.Count; i++)
            if (i % every == 0 || i == lines.Count - 1)
                curve.Add(JsonNode.Parse(lines[i]));
        return curve;
    }
}
