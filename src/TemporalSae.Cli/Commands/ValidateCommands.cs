using System.CommandLine;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
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
}
