// `tsae bench sae-step` and `tsae export`: SAE throughput on this machine, and trained SAEs out in SAELens' layout.
using System.CommandLine;
using System.Globalization;
using TemporalSae.Benchmarks;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Training;

namespace TemporalSae.Cli.Commands;

public static class SaeCommands
{
    public static Command CreateSaeStepBench(TextWriter stdout)
    {
        var arch = new Option<string>("--arch") { Description = "SAE architecture (registry key).", DefaultValueFactory = _ => StandardSae.RegistryKey };
        var dIn = new Option<int>("--d-in") { DefaultValueFactory = _ => 768 };
        var dSae = new Option<int>("--d-sae") { DefaultValueFactory = _ => 6144 };
        var batch = new Option<int>("--batch") { Description = "Tokens per step.", DefaultValueFactory = _ => 4096 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after one warm-up step).", DefaultValueFactory = _ => 20 };
        var buffer = new Option<int>("--buffer") { Description = "Temporal buffer K (temporal architectures).", DefaultValueFactory = _ => 4 };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Temporal: recompute the temporal encoder in the backward pass." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 2 };
        var command = new Command("sae-step", "Training-step throughput of an SAE on random data, as a ratio to the GEMM peak.")
        {
            arch, dIn, dSae, batch, steps, buffer, checkpointing, threads,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(steps) < 1) throw new InvalidInputException("--steps must be at least 1");
            TorchRuntime.SetThreads(parse.GetValue(threads));
            SaeStepReport report = SaeStepBenchmark.Run(parse.GetValue(arch)!, parse.GetValue(dIn), parse.GetValue(dSae),
                parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(buffer), parse.GetValue(checkpointing));
            var s = report.Step;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Architecture}{(parse.GetValue(checkpointing) ? " (gradient checkpointing)" : "")}: d_in {parse.GetValue(dIn)}, d_sae {parse.GetValue(dSae)}, batch {parse.GetValue(batch)}, {TorchSharp.torch.get_num_threads()} threads"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.TokensPerSecond:F0} tokens/s"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {s.SecondsPerStep * 1000:F1} ms, {s.Gflops:F1} GFLOP/s (10 * N * d_in * d_sae per step) = {report.FractionOfPeak:P0} of the fp32 GEMM peak ({report.Peak.Gflops:F1} GFLOP/s, measured now)"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory above start: {s.PeakMegabytes:F0} MiB"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"estimated by the architecture (what tsae validate checks): {s.EstimatedMegabytes:F0} MiB above start = {s.EstimatedMegabytes / s.PeakMegabytes:F2}x the measured peak, " +
                $"plus {s.StateMegabytes:F0} MiB of parameters, gradients and Adam moments"));
            if (report.Standard is { } standard)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"vs standard in the same run: time {s.SecondsPerStep / standard.SecondsPerStep:F2}x, peak memory {s.PeakMegabytes / standard.PeakMegabytes:F2}x " +
                    $"(standard: {standard.SecondsPerStep * 1000:F1} ms, {standard.PeakMegabytes:F0} MiB)"));
            return CliApp.Success;
        });
        return command;
    }

    public static Command CreateExport(TextWriter stdout)
    {
        var experiment = new Argument<string>("experiment") { Description = "Experiment name (experiments/NAME.yaml) whose SAE to export." };
        var folder = new Argument<string>("folder") { Description = "Output folder (cfg.json + sae_weights.safetensors)." };
        var command = new Command("export", "Write an experiment's trained SAE in SAELens' layout.") { experiment, folder };
        command.SetAction(parse =>
        {
            var environment = RunEnvironment.ForCurrentDirectory();
            string manifest = ManifestLoader.PathOf(Path.Combine(environment.RepositoryRoot, "experiments"), parse.GetValue(experiment)!);
            ExperimentConfig config = ManifestLoader.Load(manifest).Config;
            string source = ExperimentRunner.ArtifactFolder(Stages.For(environment.Architectures), environment, config, "sae")
                ?? throw new InvalidInputException(
                    $"experiment {config.Name} has no trained SAE in the cache ({environment.CacheRoot}); run it first: dotnet build -t:RunExperiment -p:Exp={config.Name}");
            string target = parse.GetValue(folder)!;
            Directory.CreateDirectory(target);
            foreach (string file in new[] { SaeLensFormat.ConfigFile, SaeLensFormat.WeightsFile })
                File.Copy(Path.Combine(source, SaeStage.SaeFolder, file), Path.Combine(target, file), overwrite: true);
            stdout.WriteLine($"exported the {config.Sae.Architecture} SAE of {config.Name} to {target}");
            return CliApp.Success;
        });
        return command;
    }
}
