using System.Diagnostics;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Results;

namespace TemporalSae.Pipeline;

/// <summary>The experiment as the runner sees it: the resolved configuration and where it came from.</summary>
public sealed record ExperimentSpec(ExperimentConfig Config, string ManifestPath, string ManifestHash);

/// <summary>
/// Resolves a manifest into its graph of stages, builds or reuses each stage's cached artifact in dependency order,
/// and writes results/&lt;name&gt;.json atomically, only when every stage succeeded.
/// </summary>
public sealed class ExperimentRunner(StageRegistry registry, RunEnvironment environment, TextWriter log)
{
    public string Run(ExperimentSpec spec)
    {
        ExperimentConfig config = spec.Config;
        TorchRuntime.SetThreads(config.Threads);
        var cache = new ArtifactCache(environment.CacheRoot, log);
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();

        var keys = new Dictionary<string, string>();
        var folders = new Dictionary<string, string>();
        var summaries = new List<(Stage Stage, JsonObject Summary)>();
        var stageProvenance = new JsonObject();

        IReadOnlyList<Stage> graph = registry.Resolve(Stages.Requested(config));
        foreach (Stage stage in graph) stage.CheckInputs(config, environment);
        foreach (Stage stage in graph)
        {
            string key = KeyOf(stage, config, keys, environment);
            keys[stage.Name] = key;
            var inputs = stage.DependsOn.ToDictionary(name => name, name => folders[name]);
            string scratch = Path.Combine(environment.CacheRoot, "scratch", stage.Name, key);
            var context = new StageContext(config, ContentHash.DeriveSeed(config.Seed, stage.Name), inputs, environment, log, scratch, key);

            log.WriteLine($"[{stage.Name}] key {key[..12]}");
            var memory = ProcessMemory.OpenPeakWindow();
            var clock = Stopwatch.StartNew();
            (CachedArtifact artifact, JsonObject summary) = BuildOrReuse(cache, stage, key, context);
            clock.Stop();
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
            folders[stage.Name] = artifact.Folder;
            log.WriteLine($"[{stage.Name}] {(artifact.FromCache ? "reused from cache" : "built")} in {clock.Elapsed.TotalSeconds:F1} s");

            summaries.Add((stage, summary));
            stageProvenance[stage.Name] = new JsonObject
            {
                ["from_cache"] = artifact.FromCache,
                ["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
                ["peak_rss_mb"] = Math.Round(ProcessMemory.PeakRssBytes(memory) / 1048576.0, 1),
                ["cache_key"] = key,
                ["build"] = ReadBuildRecord(artifact.Folder),
            };
        }

        var document = ResultDocument.Build(spec, summaries, Provenance.Collect(config, started, total.Elapsed, stageProvenance, environment));
        string path = Path.Combine(environment.ResultsFolder, $"{config.Name}.json");
        AtomicFile.WriteAllText(path, ResultJson.Serialize(document));
        log.WriteLine($"wrote {Path.GetRelativePath(environment.RepositoryRoot, path)}");
        return path;
    }

    public const string SummaryFile = "summary.json";

    /// <summary>What building the artifact cost (wall time, peak RSS, stage measurements), so a reused stage still reports it.</summary>
    public const string BuildRecordFile = "build.json";

    static JsonNode? ReadBuildRecord(string artifactFolder)
    {
        string path = Path.Combine(artifactFolder, BuildRecordFile);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
    }

    /// <summary>The verified cached artifact of one stage of a configuration, or null when it has not been built.</summary>
    public static string? ArtifactFolder(StageRegistry registry, RunEnvironment environment, ExperimentConfig config, string stageName)
    {
        var keys = new Dictionary<string, string>();
        foreach (Stage stage in registry.Resolve([stageName]))
            keys[stage.Name] = KeyOf(stage, config, keys, environment);
        string folder = new ArtifactCache(environment.CacheRoot, TextWriter.Null).FolderFor(stageName, keys[stageName]);
        return Directory.Exists(folder) && ArtifactCache.Verify(folder) is null ? folder : null;
    }

    /// <summary>
    /// The stage's verified artifact and its summary, building both when the cache lacks them. The summary is stored
    /// in the artifact, so a reused stage reports exactly what it reported when it was built.
    /// </summary>
    public static (CachedArtifact Artifact, JsonObject Summary) BuildOrReuse(ArtifactCache cache, Stage stage, string key, StageContext context)
    {
        CachedArtifact artifact = cache.GetOrBuild(stage.Name, key, folder =>
        {
            var memory = ProcessMemory.OpenPeakWindow();
            var clock = Stopwatch.StartNew();
            JsonObject built = stage.Build(context, folder);
            var record = new JsonObject
            {
                ["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
                ["peak_rss_mb"] = Math.Round(ProcessMemory.PeakRssBytes(memory) / 1048576.0, 1),
                ["threads"] = context.Config.Threads,
                ["cpu"] = Provenance.CpuModel(),
                ["built_utc"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (name, value) in context.Measurements) record[name] = value?.DeepClone();
            AtomicFile.WriteAllText(Path.Combine(folder, SummaryFile), ResultJson.Serialize(built));
            AtomicFile.WriteAllText(Path.Combine(folder, BuildRecordFile), ResultJson.Serialize(record));
        });
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(artifact.Folder, SummaryFile)))!.AsObject();
        return (artifact, summary);
    }

    /// <summary>Hash of the stage's identity, its configuration, the run-wide settings and its inputs' keys.</summary>
    public static string KeyOf(Stage stage, ExperimentConfig config, IReadOnlyDictionary<string, string> upstreamKeys, RunEnvironment environment)
    {
        var material = new JsonObject
        {
            ["stage"] = stage.Name,
            ["version"] = stage.Version,
            ["seed"] = config.Seed,
            // Floating-point reductions depend on the thread count, so it is part of every key.
            ["threads"] = config.Threads,
            ["config"] = stage.KeyMaterial(config),
            ["inputs"] = new JsonObject(stage.DependsOn.Select(name =>
                KeyValuePair.Create<string, JsonNode?>(name, upstreamKeys[name]))),
        };
        if (stage.ExternalKeyMaterial(config, environment) is { } external) material["external"] = external;
        return ContentHash.Of(ResultJson.Serialize(material));
    }
}
