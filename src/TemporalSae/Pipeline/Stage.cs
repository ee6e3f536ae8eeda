using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Saes;

namespace TemporalSae.Pipeline;

/// <summary>
/// One node of the experiment graph. A stage turns its inputs (the artifacts of the stages it depends on) and its
/// part of the configuration into an artifact folder plus a summary that becomes its section of the result.
/// Stages are pure functions of their key: the same key must always produce an equivalent artifact.
/// </summary>
public abstract class Stage
{
    /// <summary>Graph name, cache folder name and result key (e.g. "data", "sae", "core").</summary>
    public abstract string Name { get; }

    /// <summary>Where the summary goes in the result document: "stages" or "evals".</summary>
    public virtual string ResultSection => "stages";

    public abstract IReadOnlyList<string> DependsOn { get; }

    /// <summary>Bump when the artifact's format or meaning changes, so old cache entries are not reused.</summary>
    public abstract int Version { get; }

    /// <summary>The part of the resolved configuration that determines this stage's artifact.</summary>
    public abstract JsonNode KeyMaterial(ExperimentConfig config);

    /// <summary>
    /// Checks, before any stage of the run starts, what this stage will need from outside the project (a checkpoint
    /// folder, an environment variable), so that a run fails at once rather than after earlier stages' work.
    /// </summary>
    public virtual void CheckInputs(ExperimentConfig config, RunEnvironment environment) { }

    /// <summary>
    /// What the artifact depends on outside the configuration and the cache (the content of a checkpoint folder the
    /// configuration names), added to the stage key so that a changed checkpoint is never mistaken for the old one.
    /// </summary>
    public virtual JsonNode? ExternalKeyMaterial(ExperimentConfig config, RunEnvironment environment) => null;

    /// <summary>Writes the artifact into <paramref name="folder"/> and returns its summary.</summary>
    public abstract JsonObject Build(StageContext context, string folder);

    /// <summary>Sections of the canonical resolved configuration, by top-level key, as one JSON object.</summary>
    protected static JsonObject Sections(ExperimentConfig config, params string[] keys)
    {
        JsonObject canonical = CanonicalManifest.ToJson(config, includeDescriptive: false);
        var picked = new JsonObject();
        foreach (string key in keys)
            picked[key] = canonical[key]?.DeepClone() ?? throw new ArgumentException($"no configuration section '{key}'", nameof(keys));
        return picked;
    }
}

/// <summary>What a stage may use while it builds: configuration, its own seed, and its inputs' artifact folders.</summary>
/// <param name="ScratchFolder">Survives a crash of the run (for resumable checkpoints); deleted once the artifact is published.</param>
/// <param name="Key">The stage key the artifact is built for.</param>
public sealed record StageContext(
    ExperimentConfig Config,
    long Seed,
    IReadOnlyDictionary<string, string> Inputs,
    RunEnvironment Environment,
    TextWriter Log,
    string ScratchFolder = "",
    string Key = "")
{
    public string Input(string stage) => Inputs.TryGetValue(stage, out string? folder)
        ? folder
        : throw new InvalidOperationException($"stage input '{stage}' was not declared in DependsOn");

    /// <summary>
    /// Machine-dependent facts a stage measures while it builds (times, memory). They are kept with the artifact and
    /// reported in the result's provenance, never in its deterministic sections.
    /// </summary>
    public JsonObject Measurements { get; } = new();
}

/// <summary>Where a run reads and writes (repository root, cache and results folders), and the SAE architectures it knows.</summary>
public sealed record RunEnvironment(string RepositoryRoot, string CacheRoot, string ResultsFolder)
{
    public SaeRegistry Architectures { get; init; } = SaeRegistry.Default;

    /// <summary>
    /// Whether the subject_model stage may take a committed model in models/ that was published from the same stage
    /// key instead of training it again (false: train, as `tsae run --retrain-subject-model` asks).
    /// </summary>
    public bool ReusePublishedModels { get; init; } = true;

    public static RunEnvironment ForRepository(string repositoryRoot) => new(
        repositoryRoot,
        ArtifactCache.DefaultRoot(repositoryRoot),
        Path.Combine(repositoryRoot, "results"));

    /// <summary>The environment of the repository that contains the current directory.</summary>
    public static RunEnvironment ForCurrentDirectory() => ForRepository(FindRepositoryRoot(Directory.GetCurrentDirectory()));

    /// <summary>The folder holding TemporalSae.sln at or above <paramref name="start"/>, else <paramref name="start"/>.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TemporalSae.sln"))) return dir.FullName;
        return Path.GetFullPath(start);
    }
}
