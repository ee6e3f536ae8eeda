// `tsae log` and `tsae diff`: the experiment log regenerated from results/, and result changes as Markdown tables.
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Pipeline;
using TemporalSae.Results;
using TemporalSae.Review;

namespace TemporalSae.Cli.Commands;

public static class ReviewCommands
{
    public static Command CreateLog(TextWriter stdout)
    {
        var command = new Command("log", $"Regenerate {ExperimentLog.FileName} from results/ and the manifests' titles and descriptions.");
        command.SetAction(_ =>
        {
            var environment = RunEnvironment.ForCurrentDirectory();
            string path = Path.Combine(environment.RepositoryRoot, ExperimentLog.FileName);
            AtomicFile.WriteAllText(path, ExperimentLog.Render(environment.ResultsFolder));
            stdout.WriteLine($"wrote {ExperimentLog.FileName}");
            return CliApp.Success;
        });
        return command;
    }

    public static Command CreatePlot(TextWriter stdout)
    {
        var command = new Command("plot", $"Draw PNG plots of results/*.json into results/{ResultPlots.FolderName}/ (training curves, L0 vs explained variance, probing, stability, unlearning).");
        command.SetAction(_ =>
        {
            var environment = RunEnvironment.ForCurrentDirectory();
            var written = ResultPlots.Write(ExperimentLog.ReadRuns(environment.ResultsFolder), Path.Combine(environment.ResultsFolder, ResultPlots.FolderName));
            foreach (string path in written) stdout.WriteLine($"wrote {Path.GetRelativePath(environment.RepositoryRoot, path)}");
            return CliApp.Success;
        });
        return command;
    }

    public static Command CreateDiff(TextWriter stdout)
    {
        var files = new Argument<string[]>("files") { Description = "old.json new.json", Arity = new ArgumentArity(0, 2) };
        var git = new Option<string?>("--git") { Description = "Compare every results/*.json changed since this revision with the working tree." };
        var all = new Option<bool>("--all") { Description = "Also list metrics that did not change." };
        var command = new Command("diff", "Metric changes between results, as Markdown tables for a pull request.") { files, git, all };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(files) ?? [];
            bool showAll = parse.GetValue(all);
            if (parse.GetValue(git) is { Length: > 0 } revision)
            {
                if (paths.Length > 0) throw new InvalidInputException("give either two result files or --git <rev>, not both");
                DiffSinceRevision(revision, showAll, stdout);
                return CliApp.Success;
            }
            if (paths.Length != 2) throw new InvalidInputException("tsae diff needs two result files: tsae diff old.json new.json (or --git <rev>)");
            stdout.Write(ResultDiff.Markdown(Path.GetFileName(paths[1]), Read(paths[0]), Read(paths[1]), Tolerance.Default, showAll));
            return CliApp.Success;
        });
        return command;
    }

    static void DiffSinceRevision(string revision, bool all, TextWriter stdout)
    {
        var environment = RunEnvironment.ForCurrentDirectory();
        string changed = Git(environment.RepositoryRoot, ["diff", "--name-only", revision, "--", "results/"]);
        var names = changed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => n.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            stdout.WriteLine($"No result changed since {revision}.");
            return;
        }
        foreach (string name in names)
        {
            string old = Git(environment.RepositoryRoot, ["show", $"{revision}:{name}"], allowFailure: true);
            string current = Path.Combine(environment.RepositoryRoot, name);
            JsonObject? before = old.Length > 0 ? Parse(old, $"{revision}:{name}") : null;
            JsonObject? after = File.Exists(current) ? Read(current) : null;
            stdout.WriteLine(ResultDiff.Markdown(name, before, after, Tolerance.Default, all));
        }
    }

    static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such result file");
        return Parse(File.ReadAllText(path), path);
    }

    static JsonObject Parse(string text, string source)
    {
        try
        {
            return ResultDocument.WithoutProvenance(JsonNode.Parse(text)!.AsObject());
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidInputException($"{source} is not a result document: {e.Message}");
        }
    }

    static string Git(string root, string[] args, bool allowFailure = false)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidInputException($"git {string.Join(' ', info.ArgumentList)} failed: {error.Trim()}");
        return process.ExitCode == 0 ? output : "";
    }
}
