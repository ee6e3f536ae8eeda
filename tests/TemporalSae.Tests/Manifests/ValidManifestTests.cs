using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

// Valid manifests: defaults, number spellings, extends chains, overrides, and the canonical form and hash that key
// results (stable under comments, key order and spelling; changed by any value that changes the run).

public sealed class ValidManifestTests : IDisposable
{
    readonly ManifestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Keys_not_given_keep_the_record_defaults_and_the_name_is_the_file_name()
    {
        folder.Write("baseline-relu.yaml", "seed: 42\n");
        var manifest = folder.Load("baseline-relu.yaml");
        Assert.Equal("baseline-relu", manifest.Config.Name);
        var defaults = new ExperimentConfig { Name = "baseline-relu" };
        Assert.Equal(CanonicalManifest.ToYaml(defaults), manifest.CanonicalYaml);
        Assert.Equal(4096, manifest.Config.Sae.DSae);
        Assert.Equal(1e-2, Assert.Single(manifest.Config.Sae.Temporal.Levels).Weight);
    }

    [Fact]
    public void An_explicit_name_wins_over_the_file_name()
    {
        folder.Write("run.yaml", "name: run0-baseline\n");
        Assert.Equal("run0-baseline", folder.Load("run.yaml").Config.Name);
    }

    [Theory]
    [InlineData("1e-4", 1e-4)]
    [InlineData("1.0e-4", 1e-4)]
    [InlineData("1E-4", 1e-4)]
    [InlineData("0.0001", 1e-4)]
    [InlineData("3e-4", 3e-4)]
    [InlineData("1", 1.0)]
    [InlineData("+0.5", 0.5)]
    public void Float_keys_accept_the_usual_spellings(string text, double expected)
    {
        folder.Write("run.yaml", $"training:\n  learning_rate: {text}\n");
        Assert.Equal(expected, folder.Load("run.yaml").Config.Training.LearningRate);
    }

    [Theory]
    [InlineData("2_000_000", 2_000_000L)]
    [InlineData("2000000", 2_000_000L)]
    [InlineData("1e6", 1_000_000L)]
    [InlineData("2.5e6", 2_500_000L)]
    [InlineData("1_000_000_000", 1_000_000_000L)]
    public void Whole_number_keys_accept_underscores_and_integral_exponents(string text, long expected)
    {
        folder.Write("run.yaml", $"training:\n  tokens: {text}\n  batch_size: 4_096\n");
        var config = folder.Load("run.yaml").Config;
        Assert.Equal(expected, config.Training.Tokens);
        Assert.Equal(4096, config.Training.BatchSize);
    }

    [Fact]
    public void Extends_chains_merge_mappings_and_replace_lists()
    {
        folder.Write("runs/_root.yaml", """
            seed: 1
            stages: [data, subject_model, activations]
            training:
              batch_size: 1024
              learning_rate: 1e-3
            sae:
              temporal:
                buffer: 8
                levels:
                  - fraction: 0.5
                  - fraction: 0.5
            """);
        folder.Write("runs/bases/_temporal.yaml", """
            # relative to this base's folder, and still inside the run's folder
            extends: ../_root.yaml
            training:
              learning_rate: 3e-4
            sae:
              architecture: temporal
              temporal:
                levels: [{fraction: 1.0, scales: [1, 2]}]
            """);
        folder.Write("runs/run1.yaml", """
            # a comment, and a path relative to this file's folder
            extends: bases/_temporal.yaml
            stages: [data]
            training:
              tokens: 8192
            """);
        var manifest = folder.Load("runs/run1.yaml");
        var config = manifest.Config;
        Assert.Equal(1, config.Seed);
        Assert.Equal(["data"], config.Stages);
        Assert.Equal(1024, config.Training.BatchSize); // from the root, untouched by the middle and the child
        Assert.Equal(3e-4, config.Training.LearningRate); // the middle overrides the root
        Assert.Equal(8192, config.Training.Tokens); // the child adds a key
        Assert.Equal("temporal", config.Sae.Architecture);
        Assert.Equal(8, config.Sae.Temporal.Buffer); // nested mapping merged, not replaced
        var level = Assert.Single(config.Sae.Temporal.Levels); // list replaced whole
        Assert.Equal([1, 2], level.Scales);
        Assert.Equal(1e-2, level.Weight); // an item's missing key takes the item record's default
        Assert.Equal("run1", config.Name);
        Assert.Equal(
            [Path.Combine(folder.Root, "runs/run1.yaml"), Path.Combine(folder.Root, "runs/bases/_temporal.yaml"), Path.Combine(folder.Root, "runs/_root.yaml")],
            manifest.Files);
    }

    [Fact]
    public void Overrides_apply_after_extends_and_are_typed_like_file_values()
    {
        folder.Write("_base.yaml", "training:\n  learning_rate: 1e-3\n  batch_size: 2048\n");
        folder.Write("run.yaml", "extends: _base.yaml\ntraining:\n  learning_rate: 5e-4\n");
        var config = folder.Load("run.yaml",
            "training.learning_rate=3e-4", "stages=[data, subject_model]", "title=ReLU: a baseline",
            "sae.architecture=temporal", "sae.temporal.levels=[{fraction: 1.0, scales: [1, 2, 4]}]", "description=\"quoted: text\"").Config;
        Assert.Equal(3e-4, config.Training.LearningRate);
        Assert.Equal(2048, config.Training.BatchSize);
        Assert.Equal(["data", "subject_model"], config.Stages);
        Assert.Equal("ReLU: a baseline", config.Title);
        Assert.Equal("quoted: text", config.Description);
        Assert.Equal([1, 2, 4], Assert.Single(config.Sae.Temporal.Levels).Scales);
    }

    [Fact]
    public void The_last_of_two_overrides_of_one_key_wins()
    {
        folder.Write("run.yaml", "seed: 1\n");
        Assert.Equal(7, folder.Load("run.yaml", "seed=5", "seed=7").Config.Seed);
    }

    [Fact]
    public void Anchors_and_aliases_resolve()
    {
        folder.Write("run.yaml", "activations:\n  batch_size: &windows 24\nevals:\n  core:\n    batch_size: *windows\n");
        var config = folder.Load("run.yaml").Config;
        Assert.Equal(24, config.Activations.BatchSize);
        Assert.Equal(24, config.Evals.Core.BatchSize);
    }

    [Fact]
    public void Canonical_form_and_hash_ignore_comments_key_order_spelling_and_extends()
    {
        folder.Write("a.yaml", """
            # baseline
            seed: 7
            training:
              learning_rate: 1e-4   # lower than default
              tokens: 2_000_000
            stages: [data]
            """);
        folder.Write("_b.yaml", "training:\n  tokens: 2e6\n");
        folder.Write("a2.yaml", """
            extends: _b.yaml
            stages:
              - data
            training: {learning_rate: 0.0001}
            seed: 7
            name: a
            """);
        var first = folder.Load("a.yaml");
        var second = folder.Load("a2.yaml");
        Assert.Equal(first.CanonicalYaml, second.CanonicalYaml);
        Assert.Equal(first.ManifestHash, second.ManifestHash);
        Assert.Matches("^[0-9a-f]{64}$", first.ManifestHash);
    }

    [Fact]
    public void The_hash_changes_with_any_value_but_not_with_descriptive_keys()
    {
        folder.Write("run.yaml", "title: first\nstages: [data, subject_model, activations, sae, evals]\n");
        string hash = folder.Load("run.yaml").ManifestHash;
        Assert.NotEqual(hash, folder.Load("run.yaml", "training.learning_rate=2e-3").ManifestHash);
        Assert.NotEqual(folder.Load("run.yaml", "sae.architecture=temporal").ManifestHash,
            folder.Load("run.yaml", "sae.architecture=temporal", "sae.temporal.levels=[{fraction: 1.0, scales: [2]}]").ManifestHash);
        Assert.NotEqual(hash, folder.Load("run.yaml", "evals.core.enabled=false").ManifestHash);
        Assert.Equal(hash, folder.Load("run.yaml", "title=second", "description=why", "name=other").ManifestHash);
        // Setting a key to its default resolves to the same run.
        Assert.Equal(hash, folder.Load("run.yaml", "training.learning_rate=1e-3").ManifestHash);
    }

    [Fact]
    public void The_hash_of_a_run_leaves_out_the_sections_of_stages_it_does_not_run()
    {
        folder.Write("first.yaml", "stages: [data, subject_model, activations]\n");
        string hash = folder.Load("first.yaml").ManifestHash;
        Assert.Equal(hash, folder.Load("first.yaml", "training.learning_rate=2e-3", "sae.d_sae=512", "evals.core.enabled=false").ManifestHash);
        Assert.NotEqual(hash, folder.Load("first.yaml", "activations.hook=blocks.1.hook_resid_post").ManifestHash);
        Assert.NotEqual(hash, folder.Load("first.yaml", "data.context_size=64").ManifestHash);
        Assert.NotEqual(hash, folder.Load("first.yaml", "seed=7").ManifestHash);
        Assert.NotEqual(hash, folder.Load("first.yaml", "stages=[data, subject_model, activations, sae]").ManifestHash);
    }

    [Fact]
    public void Canonical_yaml_loads_back_to_itself()
    {
        folder.Write("run.yaml", """
            name: run9
            title: "A title: with a colon"
            description: "yes"
            stages: [data, subject_model]
            subject_model:
              kind: gpt2
              path: ${TSAE_TEST_MODELS}/gpt2 small
            sae:
              architecture: temporal
              temporal:
                levels:
                  - {fraction: 0.25, scales: []}
                  - {fraction: 0.75, scales: [1, 2], weight: 1e-7}
            """);
        var first = folder.Load("run.yaml");
        folder.Write("again.yaml", first.CanonicalYaml);
        var second = folder.Load("again.yaml");
        Assert.Equal(first.CanonicalYaml, second.CanonicalYaml);
        Assert.Equal(first.ManifestHash, second.ManifestHash);
        Assert.Contains("  path: \"${TSAE_TEST_MODELS}/gpt2 small\"\n", first.CanonicalYaml);
        Assert.Contains("description: \"yes\"\n", first.CanonicalYaml);
        Assert.Contains("      - fraction: 0.75\n        scales: [1, 2]\n        weight: 1e-7\n", first.CanonicalYaml);
    }

    [Fact]
    public void Canonical_json_follows_schema_order_and_omits_descriptive_keys_on_request()
    {
        folder.Write("run.yaml", "training:\n  batch_size: 512\nseed: 3\n");
        var manifest = folder.Load("run.yaml");
        var json = manifest.CanonicalJson();
        Assert.Equal(["name", "title", "description", "seed", "threads", "stages", "data", "subject_model", "activations", "sae", "training", "evals"],
            json.Select(p => p.Key));
        Assert.Equal(512, (int)json["training"]!["batch_size"]!);
        var hashed = CanonicalManifest.ToJson(manifest.Config, includeDescriptive: false);
        Assert.Equal("seed", hashed.First().Key);
        Assert.NotSame(json, manifest.CanonicalJson());
    }

    [Fact]
    public void Environment_variables_stay_unexpanded_until_a_stage_needs_the_path()
    {
        const string variable = "TSAE_TEST_UNSET_MODEL_DIR";
        Assert.Null(Environment.GetEnvironmentVariable(variable));
        folder.Write("gemma.yaml", $"subject_model:\n  kind: gemma2\n  path: ${{{variable}}}/gemma-2-2b\n");
        var config = folder.Load("gemma.yaml").Config;
        Assert.Equal($"${{{variable}}}/gemma-2-2b", config.SubjectModel.Path);
        Assert.Equal([variable], EnvironmentExpansion.Missing(config.SubjectModel.Path));
    }

    [Fact]
    public void ListExperiments_returns_run_names_sorted_without_bases()
    {
        folder.Write("_base.yaml", "seed: 1\n");
        folder.Write("run1.yaml", "seed: 1\n");
        folder.Write("run0.yml", "seed: 1\n");
        folder.Write("notes.md", "not a manifest\n");
        Assert.Equal(["run0", "run1"], ManifestLoader.ListExperiments(folder.Root));
        Assert.Equal(Path.Combine(folder.Root, "run0.yml"), ManifestLoader.PathOf(folder.Root, "run0"));
    }

    [Fact]
    public void ListExperiments_refuses_two_files_for_one_run()
    {
        folder.Write("run1.yaml", "seed: 1\n");
        folder.Write("run1.yml", "seed: 1\n");
        var e = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => ManifestLoader.ListExperiments(folder.Root));
        Assert.Contains("both run1.yaml and run1.yml define the run `run1`", e.Message);
    }

    [Fact]
    public void Cross_key_errors_for_defaults_point_at_the_manifest()
    {
        folder.Write("run.yaml", "seed: 1\n");
        var e = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => folder.Load("run.yaml", "subject_model.builtin.layers=2"));
        // The hook keeps its default (block 2), so the error points at the manifest itself and names both keys.
        Assert.StartsWith($"{Path.Combine(folder.Root, "run.yaml")}:1:1: `activations.hook` is `blocks.2.hook_resid_post`, but the built-in model has 2 blocks", e.Message);
    }
}
