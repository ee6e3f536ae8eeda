using System.CommandLine;
using TemporalSae.Cli.Commands;
using TemporalSae.Infrastructure;

namespace TemporalSae.Cli;

/// <summary>The `tsae` command tree. Exit codes: 0 success, 2 invalid input, 1 failure during a run.</summary>
public static class CliApp
{
    public const int Success = 0;
    public const int RunFailed = 1;
    public const int InvalidInput = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("TemporalSae: reproducible Temporal Sparse Autoencoder experiments.");
        root.Subcommands.Add(ModelCommands.Create(stdout, stderr));
        root.Subcommands.Add(ModelCommands.CreateModel(stdout));
        Command bench = ModelCommands.CreateBench(stdout, stderr);
        bench.Subcommands.Add(Commands.SaeCommands.CreateSaeStepBench(stdout));
        root.Subcommands.Add(bench);
        root.Subcommands.Add(Commands.SaeCommands.CreateExport(stdout));
        root.Subcommands.Add(Commands.ReviewCommands.CreateLog(stdout));
        root.Subcommands.Add(Commands.ReviewCommands.CreateDiff(stdout));
        root.Subcommands.Add(Commands.ReviewCommands.CreatePlot(stdout));
        foreach (var option in root.Options)
            if (option is VersionOption version)
                version.Action = new VersionAction(stdout);
        root.Subcommands.Add(Commands.ValidateCommands.Create(stdout, stderr));
        root.Subcommands.Add(Commands.DataCommands.Create(stdout, stderr));
        root.Subcommands.Add(Commands.RunCommands.Create(stdout, stderr));

        // Our own handler below maps exceptions to exit codes and messages; the default one would print stack traces.
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (InvalidInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (RunFailedException e)
        {
            stderr.WriteLine($"run failed: {e.Message}");
            return RunFailed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not bad input: keep the stack trace, it is what a bug report needs.
            stderr.WriteLine($"run failed with an internal error: {e}");
            return RunFailed;
        }
    }

    sealed class VersionAction(TextWriter stdout) : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine($"tsae {TorchRuntime.ToolVersion}");
            stdout.WriteLine($"TorchSharp {TorchRuntime.TorchSharpVersion}");
            stdout.WriteLine($"LibTorch {TorchRuntime.LibTorchVersion}");
            stdout.WriteLine($"device {TorchRuntime.DeviceName}");
            return Success;
        }
    }
}
