using System.CommandLine;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Cli.Commands;

/// <summary>`tsae run &lt;manifest&gt; [--set key=value ...]`: resolves the manifest and runs its stage graph.</summary>
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
        var command = new Command("run", "Run one experiment and write results/<name>.json.") { manifest, set };
        command.SetAction(parse =>
        {
            LoadedManifest loaded = ManifestLoader.Load(parse.GetValue(manifest)!, parse.GetValue(set) ?? []);
            string root = RunEnvironment.FindRepositoryRoot(Path.GetDirectoryName(Path.GetFullPath(loaded.Path))!);
            var environment = RunEnvironment.ForRepository(root);
            var spec = new ExperimentSpec(loaded.Config, Path.GetRelativePath(root, loaded.Path).Replace('\\', '/'), loaded.ManifestHash);
            new ExperimentRunner(Stages.Registry, environment, stdout).Run(spec);
            return CliApp.Success;
        });
        return command;
    }
}
