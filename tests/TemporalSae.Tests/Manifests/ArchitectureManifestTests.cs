// What a manifest's SAE architecture decides, checked when the manifest loads (tsae validate, and tsae run before any
// stage): a registered key, only the keys that architecture reads in the run's own file, its own rules, and a memory
// estimate under training.memory_limit_mb.
using TemporalSae.Manifests;
using TemporalSae.Saes;

namespace TemporalSae.Tests.Manifests;

public sealed class ArchitectureManifestTests : IDisposable
{
    readonly ManifestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("jumprelu-xyz", "Expected one of: batchtopk, standard, temporal, topk, tsae-contrastive.")]
    [InlineData("temporl", "Did you mean `temporal`?")]
    [InlineData("TopK", "Did you mean `topk`?")]
    public void An_unknown_architecture_is_refused_at_its_line_with_the_known_keys(string architecture, string hint)
    {
        folder.Write("run.yaml", $"stages: [data]\nsae:\n  d_sae: 64\n  architecture: {architecture}\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{Path.Combine(folder.Root, "run.yaml")}:4:17: `sae.architecture` is `{architecture}`, which is not a registered architecture.", message);
        Assert.Contains(hint, message);
    }

    [Theory]
    [InlineData("sae:\n  architecture: standard\n  temporal:\n    buffer: 8\n", 4, 13, "sae.temporal.buffer", "standard", "it is read only by temporal")]
    [InlineData("sae:\n  architecture: topk\ntraining:\n  l1_coefficient: 3\n", 4, 19, "training.l1_coefficient", "topk", "read only by standard, temporal, tsae-contrastive")]
    [InlineData("sae:\n  architecture: standard\n  k: 16\n", 3, 6, "sae.k", "standard", "read only by topk, batchtopk, temporal, tsae-contrastive")]
    [InlineData("sae:\n  architecture: temporal\n  k: 16\n", 3, 6, "sae.k", "temporal", "only with `sae.temporal.activation: topk`")]
    [InlineData("sae:\n  architecture: tsae-contrastive\n  temporal:\n    levels: [{fraction: 1.0, scales: [2]}]\n", 4, 13,
        "sae.temporal.levels", "tsae-contrastive", "it is read only by temporal")]
    [InlineData("sae:\n  architecture: temporal\n  temporal:\n    contrastive_coefficient: 2\n", 4, 30,
        "sae.temporal.contrastive_coefficient", "temporal", "it is read only by tsae-contrastive")]
    public void A_key_the_architecture_does_not_read_is_refused_where_the_run_sets_it(string yaml, int line, int column, string key,
        string architecture, string why)
    {
        folder.Write("run.yaml", "stages: [data]\n" + yaml);
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{Path.Combine(folder.Root, "run.yaml")}:{line + 1}:{column}: `{key}` is set, but `sae.architecture: {architecture}` does not read it", message);
        Assert.Contains(why, message);
        Assert.Contains($"Besides the keys every architecture reads, `{architecture}` reads:", message);
    }

    [Fact]
    public void An_override_that_sets_a_key_the_architecture_does_not_read_is_refused()
    {
        folder.Write("run.yaml", "stages: [data]\n");
        string message = folder.Error("run.yaml", "sae.temporal.buffer=8");
        Assert.StartsWith("override `--set sae.temporal.buffer=8`", message);
        Assert.Contains("`sae.architecture: standard` does not read it", message);
    }

    [Fact]
    public void Keys_inherited_from_a_base_and_keys_at_their_default_stay_allowed()
    {
        folder.Write("_temporal.yaml", "stages: [data]\nsae:\n  architecture: temporal\n  temporal:\n    buffer: 8\n    boundary: sentence\n");
        // A run that changes the architecture keeps its base's temporal settings without error.
        folder.Write("run.yaml", "extends: _temporal.yaml\nsae:\n  architecture: standard\n");
        Assert.Equal(8, folder.Load("run.yaml").Config.Sae.Temporal.Buffer);
        // A resolved configuration lists every key at its value; one that another architecture reads, left at its
        // default, changes nothing and is allowed, so `tsae validate` output loads back.
        folder.Write("resolved.yaml", "stages: [data]\nsae:\n  architecture: standard\n  k: 32\n  temporal:\n    buffer: 4\n");
        Assert.Equal("standard", folder.Load("resolved.yaml").Config.Sae.Architecture);
    }

    [Theory]
    [InlineData("topk", "sae:\n  architecture: topk\n  d_sae: 64\n  k: 65\n", 5, 6, "`sae.k` = 65 is larger than `sae.d_sae` = 64.")]
    [InlineData("batchtopk", "sae:\n  architecture: batchtopk\n  d_sae: 64\n  k: 100\n", 5, 6, "`sae.k` = 100 is larger than `sae.d_sae` = 64.")]
    [InlineData("temporal", "sae:\n  architecture: temporal\n  d_sae: 64\n  k: 65\n  temporal:\n    activation: topk\n", 5, 6, "`sae.k` = 65 is larger")]
    [InlineData("temporal", "sae:\n  architecture: temporal\n  d_sae: 64\n  temporal:\n    buffer: 64\ndata:\n  context_size: 32\n", 6, 13,
        "`sae.temporal.buffer` = 64 is longer than `data.context_size` = 32.")]
    [InlineData("temporal", "sae:\n  architecture: temporal\n  d_sae: 8\n  temporal:\n    levels: [{fraction: 0.99}, {fraction: 0.01}]\n", 6, 43,
        "`sae.temporal.levels[1].fraction` = 0.01 gives no latent of `sae.d_sae` = 8.")]
    [InlineData("tsae-contrastive", "sae:\n  architecture: tsae-contrastive\n  d_sae: 20\n  temporal:\n    high_level_fraction: 0.01\n", 6, 26,
        "`sae.temporal.high_level_fraction` = 0.01 gives 0 of `sae.d_sae` = 20 latents.")]
    public void Each_architecture_checks_its_own_rules(string architecture, string yaml, int line, int column, string headline)
    {
        Assert.Contains(architecture, SaeRegistry.Default.Keys);
        folder.Write("run.yaml", "stages: [data]\n" + yaml);
        Assert.StartsWith($"{Path.Combine(folder.Root, "run.yaml")}:{line}:{column}: {headline}", folder.Error("run.yaml"));
    }

    public static TheoryData<string> Architectures() => new(SaeRegistry.Default.Keys);

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_architecture_gets_a_memory_estimate_from_the_shapes(string architecture)
    {
        folder.Write("run.yaml", $"stages: [data, subject_model, activations, sae]\nsae:\n  architecture: {architecture}\n  d_sae: 4096\n");
        var memory = folder.Load("run.yaml").SaeMemory;
        Assert.NotNull(memory);
        Assert.Equal(architecture, memory.Architecture.Key);
        // The built-in model's width is d_in; 4096 tokens per step (32 windows for sequence architectures).
        Assert.Equal(new SaeStepShapes(4096, 128, 192, 4096), memory.Shapes);
        Assert.Equal(memory.Architecture.EstimatePeakBytes(memory.Shapes, new SaeConfig { Architecture = architecture, DSae = 4096 }), memory.Bytes);
        // At least the parameters with their gradients and Adam moments, and one [tokens, d_sae] tensor.
        Assert.True(memory.Bytes > 4L * 2 * 192 * 4096 * 4 + 4096L * 4096 * 4);
        Assert.Contains($"estimated peak memory of a training step", memory.Summary);
        Assert.Contains("training.memory_limit_mb = 16384 MiB", memory.Summary);
    }

    [Fact]
    public void A_run_that_does_not_train_an_sae_has_no_estimate()
    {
        folder.Write("run.yaml", "stages: [data]\n");
        Assert.Null(folder.Load("run.yaml").SaeMemory);
    }

    [Fact]
    public void A_9M_latent_sae_is_refused_with_the_estimate_the_limit_and_what_to_change()
    {
        folder.Write("run.yaml", "stages: [data, subject_model, activations, sae]\nsae:\n  d_sae: 9000000\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{Path.Combine(folder.Root, "run.yaml")}:3:10: the estimated peak memory of a `standard` training step, ", message);
        Assert.Contains("exceeds training.memory_limit_mb = 16384 MiB", message);
        Assert.Contains("lower training.batch_size or sae.d_sae, or raise training.memory_limit_mb", message);
        // The same SAE under a limit that fits it, or with no limit, loads.
        Assert.NotNull(folder.Load("run.yaml", "training.memory_limit_mb=0").SaeMemory);
    }

    [Fact]
    public void A_temporal_sae_over_the_limit_is_told_about_gradient_checkpointing()
    {
        folder.Write("run.yaml", "stages: [data, subject_model, activations, sae]\nsae:\n  architecture: temporal\n  d_sae: 65536\ntraining:\n  memory_limit_mb: 4096\n");
        string message = folder.Error("run.yaml");
        Assert.Contains("training step, ", message);
        Assert.Contains("32 sequences of 128 tokens, d_in = 192, d_sae = 65536", message);
        Assert.Contains("set sae.temporal.gradient_checkpointing: true (estimate ", message);
    }

    [Fact]
    public void A_checkpoint_whose_width_is_unknown_yet_gets_no_estimate_but_still_validates()
    {
        folder.Write("run.yaml", "stages: [data, subject_model, activations, sae]\nsubject_model:\n  kind: gpt2\n  path: ${TSAE_NO_SUCH_VARIABLE}\n");
        Assert.Null(folder.Load("run.yaml").SaeMemory);
        // With a checkpoint folder present, d_in is its config.json's width.
        string checkpoint = Path.Combine(folder.Root, "gpt2");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), """{"model_type": "gpt2", "n_embd": 768}""");
        folder.Write("real.yaml", $"stages: [data, subject_model, activations, sae]\nsubject_model:\n  kind: gpt2\n  path: {checkpoint}\n");
        Assert.Equal(768, folder.Load("real.yaml").SaeMemory!.Shapes.DIn);
    }
}
