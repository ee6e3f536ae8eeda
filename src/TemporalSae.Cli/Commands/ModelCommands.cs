// Subject-model commands: `tsae activations` (one sequence's hooked residual and logits), `tsae model publish` (a
// trained built-in model as a committed checkpoint folder), `tsae bench harvest` (activation-harvesting throughput)
// and `tsae bench builtin-lm` (built-in model training throughput).
using System.CommandLine;
using TemporalSae.Benchmarks;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Pipeline;

namespace TemporalSae.Cli.Commands;

public static class ModelCommands
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model") { Description = "Hugging Face checkpoint folder (config.json + safetensors).", Required = true };
        var layer = new Option<int>("--layer") { Description = "Block L of the hook blocks.L.hook_resid_post.", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "Comma-separated token ids, run exactly as given (no BOS added).", Required = true };
        var output = new Option<string>("--out") { Description = "Output .safetensors: float32 resid_post [T, d_model] and logits [T, vocab].", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Compute precision: float32 or bfloat16.", DefaultValueFactory = _ => "float32" };
        var command = new Command("activations", "Run a subject model on one token sequence and save its residual stream and logits.")
        {
            model, layer, tokens, output, dtype,
        };
        command.SetAction(parseResult =>
        {
            var ids = ActivationDump.ParseTokens(parseResult.GetValue(tokens)!);
            using var subject = SubjectModels.Load(parseResult.GetValue(model)!, SubjectModels.ParseDtype(parseResult.GetValue(dtype)!));
            string path = parseResult.GetValue(output)!;
            ActivationDump.Write(subject, parseResult.GetValue(layer), ids, path);
            stdout.WriteLine($"wrote {path}: resid_post [{ids.Length}, {subject.DModel}], logits [{ids.Length}, {subject.VocabSize}] (blocks.{parseResult.GetValue(layer)}.hook_resid_post)");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>`tsae model publish MANIFEST --to FOLDER`: the manifest's cached built-in model with its provenance.</summary>
    public static Command CreateModel(TextWriter stdout)
    {
        var manifest = new Argument<string>("manifest") { Description = "A manifest that trains the built-in model (subject_model.kind: builtin), already run." };
        var to = new Option<string>("--to") { Description = "Checkpoint folder inside the repository.", Required = true };
        var publish = new Command("publish", "Write a run's trained built-in model as a Hugging Face GPT-2 checkpoint folder with provenance.json.")
        {
            manifest, to,
        };
        publish.SetAction(parse =>
        {
            // The repository is the one holding the manifest, as for `tsae run`.
            string manifestPath = Path.GetFullPath(parse.GetValue(manifest)!);
            var environment = RunEnvironment.ForRepository(RunEnvironment.FindRepositoryRoot(Path.GetDirectoryName(manifestPath)!));
            string target = parse.GetValue(to)!;
            var record = PublishedModel.Publish(manifestPath, target, environment);
            stdout.WriteLine($"published the built-in model of {record["manifest"]} (subject_model key {record["subject_model_key"]!.GetValue<string>()[..12]}, " +
                             $"commit {record["git_commit"]}) to {target}");
            return CliApp.Success;
        });
        return new Command("model", "Built-in subject model commands.") { publish };
    }

    /// <summary>`tsae bench` with its `harvest` subcommand; other benchmarks add their subcommands beside it.</summary>
    public static Command CreateBench(TextWriter stdout, TextWriter stderr)
    {
        var bench = new Command("bench", "Measure throughput on this machine, as a ratio to its GEMM peak.");
        bench.Subcommands.Add(CreateHarvestBench(stdout, stderr));
        bench.Subcommands.Add(CreateBuiltinLmBench(stdout, stderr));
        return bench;
    }

    public static Command CreateHarvestBench(TextWriter stdout, TextWriter stderr)
    {
        var layer = new Option<int>("--layer") { Description = "Stop after this block (blocks.L.hook_resid_post).", DefaultValueFactory = _ => 6 };
        var batch = new Option<int>("--batch") { Description = "Context windows per forward pass.", DefaultValueFactory = _ => 8 };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes per variant (the best counts).", DefaultValueFactory = _ => 3 };
        var dtype = new Option<string>("--dtype") { Description = "Compute precision: float32 or bfloat16.", DefaultValueFactory = _ => "float32" };
        var threads = new Option<int>("--threads") { Description = "LibTorch intra-op threads.", DefaultValueFactory = _ => 2 };
        var command = new Command("harvest", "Activation-harvesting tokens/s of a random GPT-2-small-shaped model (context 128).")
        {
            layer, batch, repeats, dtype, threads,
        };
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(threads) < 1) throw new InvalidInputException("--threads must be at least 1");
            TorchRuntime.SetThreads(parseResult.GetValue(threads));
            var result = HarvestBenchmark.Run(parseResult.GetValue(layer), parseResult.GetValue(batch), 128, parseResult.GetValue(repeats),
                SubjectModels.ParseDtype(parseResult.GetValue(dtype)!), progress: stdout.WriteLine);
            stdout.WriteLine($"model: GPT-2 small shape (12 x 768, vocab 50257), {result.Dtype}, batch {result.BatchSize} x context {result.Context}, " +
                             $"{TorchRuntime.DeviceName}, {TorchSharp.torch.get_num_threads()} threads");
            foreach (var t in new[] { result.StopAfter, result.Full })
                stdout.WriteLine($"{t.Name}: {t.TokensPerSecond:F0} tokens/s, {t.Gflops:F1} GFLOP/s = {t.FractionOfPeak:P0} of the fp32 GEMM peak");
            return CliApp.Success;
        });
        return command;
    }

    public static Command CreateBuiltinLmBench(TextWriter stdout, TextWriter stderr)
    {
        var steps = new Option<int>("--steps") { Description = "Training steps to time.", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "LibTorch intra-op threads.", DefaultValueFactory = _ => 2 };
        var command = new Command("builtin-lm", "Training tokens/s of the default built-in model on random windows (context 128), projected to its full run.")
        {
            steps, threads,
        };
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(threads) < 1) throw new InvalidInputException("--threads must be at least 1");
            TorchRuntime.SetThreads(parseResult.GetValue(threads));
            var config = new BuiltinModelConfig();
            var r = BuiltinLmBenchmark.Run(config, parseResult.GetValue(steps), 128);
            stdout.WriteLine($"built-in model {config.Layers} x {config.Width}, {config.Heads} heads, vocab {config.Vocab}, batch {config.BatchSize} x 128: " +
                             $"{r.TokensPerSecond:F0} tokens/s over {r.MeasuredSteps} steps; {r.ConfiguredSteps} steps ({r.ConfiguredTokens:N0} tokens) " +
                             $"would take {r.ProjectedSeconds / 60:F1} min");
            return CliApp.Success;
        });
        return command;
    }

}
