using System.CommandLine;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Cli.Commands;

/// <summary>
/// `tsae run &lt;manifest&gt; [--profile P] [--results F] [--set key=value ...]`: resolves the manifest and runs its
/// stage graph. A profile's results go to &lt;cache&gt;/&lt;profile&gt;-results/ unless --results says otherwise, never
/// to results/, so a smoke run can never be mistaken for (or overwrite) a committed result.
/// </summary>
public static class RunCommands
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var manifest = new Argument<string>("manifest") { Description = "Path to an experiment manifest (experiments/NAME.yaml)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a manifest key: --set training.tokens=100000 (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var profile = new Option<string>("--profile")
        {
            Description = "Merge a profile over the manifest before --set: a name in experiments/profiles/ (e.g. smoke) or a .yaml path.",
        };
        var results = new Option<string>("--results")
        {
            Description = "Folder for the result file (default: results/, or <cache>/<profile>-results/ with --profile).",
        };
        var retrain = new Option<bool>("--retrain-subject-model")
        {
            Description = "Train the built-in subject model even when a committed model in models/ was published from the same subject_model stage key.",
        };
        var command = new Command("run", "Run one experiment and write results/<name>.json.") { manifest, set, profile, results, retrain };
        command.SetAction(parse =>
        {
            string manifestPath = parse.GetValue(manifest)!;
            string? profilePath = parse.GetValue(profile) is { } name ? ManifestProfiles.PathOf(manifestPath, name) : null;
            LoadedManifest loaded = ManifestLoader.Load(manifestPath, parse.GetValue(set) ?? [], profilePath);
            string root = RunEnvironment.FindRepositoryRoot(Path.GetDirectoryName(Path.GetFullPath(loaded.Path))!);
            var environment = RunEnvironment.ForRepository(root) with { ReusePublishedModels = !parse.GetValue(retrain) };
            if (parse.GetValue(results) is { } folder)
                environment = environment with { ResultsFolder = Path.GetFullPath(folder) };
            else if (profilePath is not null)
                environment = environment with { ResultsFolder = Path.Combine(environment.CacheRoot, $"{Path.GetFileNameWithoutExtension(profilePath)}-results") };
            var spec = new ExperimentSpec(loaded.Config, Path.GetRelativePath(root, loaded.Path).Replace('\\', '/'), loaded.ManifestHash);
            new ExperimentRunner(Stages.For(environment.Architectures), environment, stdout).Run(spec);
            return CliApp.Success;
        });
        return command;
    }
}
