using System.CommandLine;
using TemporalSae.Benchmarks;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Saes;

namespace TemporalSae.Cli.Commands;

/// <summary>`tsae validate`: checks manifests and prints each fully resolved configuration; `--schema` prints the key table.</summary>
public static class ValidateCommands
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("files") { Description = "Manifest files to check (e.g. experiments/*.yaml).", Arity = ArgumentArity.ZeroOrMore };
        var set = new Option<string[]>("--set") { Description = "Override a key after extends: --set training.learning_rate=3e-4 (repeatable)." };
        var profile = new Option<string>("--profile") { Description = "Merge a profile over each manifest before --set: a name in experiments/profiles/ (e.g. smoke) or a .yaml path." };
        var schema = new Option<bool>("--schema") { Description = "Print the reference table of every manifest key and exit." };
        var architectures = new Option<bool>("--architectures") { Description = "Print the table of SAE architectures and the keys each reads, and exit." };
        var command = new Command("validate", "Check manifests strictly and print each resolved configuration with its manifest hash.");
        command.Arguments.Add(files);
        command.Options.Add(set);
        command.Options.Add(profile);
        command.Options.Add(schema);
        command.Options.Add(architectures);

        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(schema))
            {
                stdout.Write(ManifestDocs.KeyTable());
                return CliApp.Success;
            }
            if (parseResult.GetValue(architectures))
            {
                stdout.Write(SaeRegistry.Default.Table());
                return CliApp.Success;
            }
            string[] paths = parseResult.GetValue(files) ?? [];
            if (paths.Length == 0)
            {
                stderr.WriteLine("error: give at least one manifest file, e.g. tsae validate experiments/*.yaml");
                return CliApp.InvalidInput;
            }
            string[] overrides = parseResult.GetValue(set) ?? [];
            int exit = CliApp.Success;
            // Measured once per compute dtype for all the files of one command.
            var machines = new Dictionary<string, MachineThroughput>();
            foreach (string path in paths)
            {
                try
                {
                    string? profilePath = parseResult.GetValue(profile) is { } name ? ManifestProfiles.PathOf(path, name) : null;
                    var manifest = ManifestLoader.Load(path, overrides, profilePath);
                    stdout.WriteLine($"# {path}  manifest_hash: {manifest.ManifestHash}");
                    if (manifest.Config.Stages.Contains("sae"))
                        stdout.WriteLine("# " + (manifest.SaeMemory?.Summary ??
                            "sae stage: peak memory not estimated yet: d_in comes from the checkpoint's config.json, which is not readable " +
                            "here (the sae stage estimates it and checks training.memory_limit_mb before it trains)"));
                    WriteEstimates(manifest, stdout, machines);
                    stdout.Write(manifest.CanonicalYaml);
                }
                catch (InvalidInputException e)
                {
                    // Check every file so one run of the command reports every broken manifest.
                    stderr.WriteLine($"error: {e.Message}");
                    exit = CliApp.InvalidInput;
                }
            }
            return exit;
        });
        return command;
    }

    /// <summary>
    /// Each stage's estimated peak memory and time for a checkpoint model whose shape is known now (its config.json,
    /// or subject_model.config); the built-in model trains here instead (`tsae bench builtin-lm` projects that).
    /// </summary>
    static void WriteEstimates(LoadedManifest manifest, TextWriter stdout, Dictionary<string, MachineThroughput> machines)
    {
        ExperimentConfig config = manifest.Config;
        if (config.SubjectModel.Kind == "builtin" || !config.Stages.Contains("subject_model")) return;
        string root = RunEnvironment.FindRepositoryRoot(Path.GetDirectoryName(Path.GetFullPath(manifest.Path))!);
        ModelShape? shape;
        try { shape = ModelShape.Of(config.SubjectModel, root); }
        catch (InvalidInputException e) when (config.SubjectModel.Config == "checkpoint")
        {
            // The checkpoint's config.json is the loader's to judge; without an estimate the manifest is still valid.
            stdout.WriteLine($"# stage estimates not made: {e.Message}");
            return;
        }
        if (shape is null)
        {
            stdout.WriteLine("# stage estimates not made: the model's shape comes from the checkpoint's config.json, which is not readable here; " +
                             "set subject_model.config (gpt2 or google/gemma-2-2b) to estimate before the checkpoint is here");
            return;
        }
        string dtype = config.SubjectModel.Dtype;
        if (!machines.TryGetValue(dtype, out MachineThroughput? machine))
            machines[dtype] = machine = MachineThroughput.Measure(dtype);
        foreach (string line in StageEstimates.Lines(shape, dtype, StageEstimates.For(config, shape, manifest.SaeMemory, machine), machine))
            stdout.WriteLine(line);
    }
}
