using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Results;

/// <summary>Facts about how and where a result was produced: never compared, always recorded.</summary>
public static class Provenance
{
    public static JsonObject Collect(ExperimentConfig config, DateTimeOffset started, TimeSpan wall, JsonObject stages, RunEnvironment environment) => new()
    {
        ["tool"] = $"tsae {TorchRuntime.ToolVersion}",
        ["torchsharp"] = TorchRuntime.TorchSharpVersion,
        ["libtorch"] = TorchRuntime.LibTorchVersion,
        ["device"] = TorchRuntime.DeviceName,
        ["git_commit"] = GitCommit(environment.RepositoryRoot),
        ["os"] = RuntimeInformation.OSDescription,
        ["cpu"] = CpuModel(),
        ["cores"] = Environment.ProcessorCount,
        ["threads"] = config.Threads,
        ["started_utc"] = started.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        ["ended_utc"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        ["wall_seconds"] = Math.Round(wall.TotalSeconds, 3),
        ["stages"] = stages,
    };

    public static string CpuModel()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    static string GitCommit(string repositoryRoot)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD")
            {
                WorkingDirectory = repositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (git is null) return "unknown";
            string commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
