using TemporalSae.Manifests;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    readonly TempFolder folder = new("tsae-validate-");

    public void Dispose() => folder.Dispose();

    (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Valid_manifests_print_their_resolved_config_with_the_hash()
    {
        string path = Path.Combine(folder, "run.yaml");
        File.WriteAllText(path, "stages: [data]\n");
        var (code, output, error) = Run("validate", path, "--set", "seed=7");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        var manifest = ManifestLoader.Load(path, ["seed=7"]);
        Assert.Equal($"# {path}  manifest_hash: {manifest.ManifestHash}\n{manifest.CanonicalYaml}", output.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Runs_that_train_an_sae_print_its_memory_estimate_before_the_config()
    {
        string path = Path.Combine(folder, "run.yaml");
        File.WriteAllText(path, "stages: [data, subject_model, activations, sae]\nsae:\n  architecture: topk\n  k: 16\n");
        var (code, output, _) = Run("validate", path);
        Assert.Equal(0, code);
        var memory = ManifestLoader.Load(path).SaeMemory!;
        Assert.Equal($"# {memory.Summary}", output.Split('\n')[1]);
        Assert.StartsWith("# sae stage: estimated peak memory of a training step ", output.Split('\n')[1]);
        Assert.Contains("(`topk`, 4096 tokens, d_in = 192, d_sae = 4096); training.memory_limit_mb = 16384 MiB", output);

        // A checkpoint that is not here yet: no width, so no estimate, and the line says why.
        File.WriteAllText(path, "stages: [data, subject_model, activations, sae]\nsubject_model: {kind: gemma2, path: \'${TSAE_NO_SUCH_CHECKPOINT}\'}\n");
        (code, output, _) = Run("validate", path);
        Assert.Equal(0, code);
        Assert.StartsWith("# sae stage: peak memory not estimated yet: d_in comes from the checkpoint's config.json", output.Split('\n')[1]);
    }

    [Fact]
    public void The_gemma2_2b_baseline_prints_each_stages_estimated_peak_memory_and_time_before_the_checkpoint_is_here()
    {
        string manifest = Path.Combine(Tsae.RepositoryRoot, "experiments", "gemma2-2b-baseline.yaml");
        var (code, output, error) = Run("validate", manifest);
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n');
        Assert.StartsWith("# sae stage: estimated peak memory of a training step ", lines[1]);
        Assert.StartsWith("# estimate on this machine, before anything runs (a lower bound", lines[2]);
        Assert.Matches(@"GEMM \d+ GFLOP/s bfloat16, \d+ float32, memory copy [\d.]+ GB/s", lines[2]);
        Assert.Equal("# subject model: gemma2 2.61B parameters, 26 blocks, d_model 2304, vocabulary 256000 (google/gemma-2-2b), computed in bfloat16", lines[3]);
        string[] stages = ["data", "subject_model", "activations", "sae", "evals.core", "evals.capability", "evals.unlearning",
            "evals.sparse_probing", "evals.stability", "evals.smoothness", "total"];
        for (int i = 0; i < stages.Length; i++)
            Assert.Matches($@"^#   {System.Text.RegularExpressions.Regex.Escape(stages[i])} +(peak >= +[\d.]+ (GB|MB) +)?( {{17}})?time >= +[\d.]+ (s|min|h)", lines[4 + i]);
        Assert.Contains("peak >=   15.7 GB", lines[5]);  // 10.5 GB of float32 weights read, 5.2 GB of bfloat16 made
        Assert.StartsWith("name: gemma2-2b-baseline", lines[4 + stages.Length]);
    }

    [Fact]
    public void A_shape_of_another_kind_than_the_model_is_refused_at_its_key()
    {
        string path = Path.Combine(folder, "run.yaml");
        File.WriteAllText(path, "stages: [data]\nsubject_model: {kind: gpt2, path: x, config: google/gemma-2-2b}\n");
        var (code, _, error) = Run("validate", path);
        Assert.Equal(2, code);
        Assert.Contains("`subject_model.config` is `google/gemma-2-2b`, a gemma2 model, but `subject_model.kind` is `gpt2`.", error);
    }

    [Fact]
    public void A_run_over_the_memory_limit_exits_2_naming_the_estimate_the_limit_and_the_key()
    {
        string path = Path.Combine(folder, "big.yaml");
        File.WriteAllText(path, "stages: [data, subject_model, activations, sae]\nsae:\n  d_sae: 9000000\n");
        var (code, output, error) = Run("validate", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"error: {path}:3:10: the estimated peak memory of a `standard` training step, ", error);
        Assert.Contains("exceeds training.memory_limit_mb = 16384 MiB; lower training.batch_size or sae.d_sae", error);
    }

    [Fact]
    public void Invalid_manifests_exit_2_after_checking_every_file()
    {
        string bad = Path.Combine(folder, "bad.yaml");
        string good = Path.Combine(folder, "good.yaml");
        File.WriteAllText(bad, "threads: 0\n");
        File.WriteAllText(good, "seed: 1\n");
        var (code, output, error) = Run("validate", bad, good);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {bad}:1:10: `threads` is 0, outside the allowed range.", error);
        Assert.Contains($"# {good}  manifest_hash: ", output);
    }

    [Fact]
    public void A_manifest_nested_50000_deep_exits_2_with_a_located_error()
    {
        string path = Path.Combine(folder, "deep.yaml");
        File.WriteAllText(path, "description: " + new string('[', 50_000) + new string(']', 50_000) + "\n");
        // A separate process, because a stack overflow would end the test host instead of failing the test.
        var outcome = Tsae.Run(["validate", path]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith($"error: {path}:1:77: mappings and lists nested more than 64 levels deep.", outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
        Assert.DoesNotContain("Stack overflow", outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
    }

    [Fact]
    public void Schema_prints_the_key_table()
    {
        var (code, output, _) = Run("validate", "--schema");
        Assert.Equal(0, code);
        Assert.Equal(ManifestDocs.KeyTable(), output);
    }
}
