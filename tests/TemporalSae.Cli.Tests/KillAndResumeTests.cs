using System.Diagnostics;
using System.Text.Json.Nodes;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

/// <summary>A run killed with SIGKILL during SAE training resumes from its checkpoint and ends byte-identical.</summary>
public sealed class KillAndResumeTests : IDisposable
{
    readonly TempFolder scratch = new("tsae-kill-");
    string Cache => Path.Combine(scratch, "cache");
    string ResultPath => Path.Combine(scratch, "results", "killed.json");

    public void Dispose()
    {
        scratch.Dispose();
    }

    // A tiny graph: the committed model read at its first block, a small store, and an SAE trained for many
    // small steps with frequent checkpoints, so that a kill lands after a checkpoint and well before the end.
    const string Manifest = """
        extends: _base.yaml
        stages: [data, subject_model, activations, sae]
        activations: {hook: blocks.0.hook_resid_post, train_tokens: 65536}
        sae: {d_sae: 64}
        training: {tokens: 64000, batch_size: 64, checkpoint_every: 20, lr_warmup_steps: 5, l1_warmup_steps: 5}
        """;

    [Fact]
    public void Killed_run_resumes_and_writes_the_same_result()
    {
        string manifest = Tsae.WriteScratchExperiment(scratch, "killed", Manifest);
        var environment = new Dictionary<string, string> { ["TSAE_CACHE"] = Cache };

        var whole = Tsae.Run(["run", manifest], environment);
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        string uninterrupted = WithoutProvenance(ResultPath);
        File.Delete(ResultPath);
        Directory.Delete(Path.Combine(Cache, "sae"), recursive: true);

        using (var process = StartRun(manifest))
        {
            string checkpointRoot = Path.Combine(Cache, "scratch", "sae");
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists(checkpointRoot) || !Directory.EnumerateFiles(checkpointRoot, "checkpoint.safetensors", SearchOption.AllDirectories).Any())
            {
                Assert.False(process.HasExited, "the run ended before its first checkpoint");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), "no checkpoint within 5 minutes");
                Thread.Sleep(20);
            }
            process.Kill(entireProcessTree: true); // SIGKILL: no cleanup code runs
            process.WaitForExit();
        }
        Assert.False(File.Exists(ResultPath));

        var resumed = Tsae.Run(["run", manifest], environment);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resuming from the checkpoint", resumed.Stdout);
        Assert.Equal(uninterrupted, WithoutProvenance(ResultPath));
    }

    Process StartRun(string manifest)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = scratch, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tsae.dll"));
        info.ArgumentList.Add("run");
        info.ArgumentList.Add(manifest);
        info.Environment["TSAE_CACHE"] = Cache;
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static string WithoutProvenance(string path)
    {
        var document = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        document.Remove("provenance");
        return document.ToJsonString();
    }
}
