using System.Diagnostics;

namespace TemporalSae.Cli.Tests;

/// <summary>Runs the built `tsae` (or `dotnet build`) as a separate process, as a user would.</summary>
static class Tsae
{
    public static string RepositoryRoot { get; } = FindRoot();

    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static Outcome Run(IEnumerable<string> args, IDictionary<string, string>? environment = null) =>
        Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "tsae.dll"), .. args], environment);

    public static Outcome Start(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Outcome(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Makes <paramref name="scratch"/> a throw-away repository: a solution marker, the real _base.yaml and a copy of
    /// the committed models it points at. Calling it again leaves what is there.
    /// </summary>
    public static void PrepareScratchRepository(string scratch)
    {
        Directory.CreateDirectory(Path.Combine(scratch, "experiments"));
        File.WriteAllText(Path.Combine(scratch, "TemporalSae.sln"), ""); // marks scratch as the repository: results/ goes there
        File.Copy(Path.Combine(RepositoryRoot, "experiments", "_base.yaml"), Path.Combine(scratch, "experiments", "_base.yaml"), overwrite: true);
        foreach (string model in Directory.EnumerateDirectories(Path.Combine(RepositoryRoot, "models")))
        {
            string copy = Path.Combine(scratch, "models", Path.GetFileName(model));
            Directory.CreateDirectory(copy);
            foreach (string file in Directory.EnumerateFiles(model)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        }
    }

    /// <summary>A throw-away repository in <paramref name="scratch"/> holding one manifest; returns the manifest's path.</summary>
    public static string WriteScratchExperiment(string scratch, string name, string manifest)
    {
        PrepareScratchRepository(scratch);
        string path = Path.Combine(scratch, "experiments", $"{name}.yaml");
        File.WriteAllText(path, manifest);
        return path;
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TemporalSae.sln"))) return dir.FullName;
        throw new InvalidOperationException("TemporalSae.sln not found");
    }
}
