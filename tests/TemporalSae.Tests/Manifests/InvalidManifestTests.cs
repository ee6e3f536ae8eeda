using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

// Every way a manifest can be wrong gets one clear error naming the file, line and column, the key path and what was
// expected. Each case below asserts the location and the specific wording a researcher needs to fix it.

public sealed class InvalidManifestTests : IDisposable
{
    readonly ManifestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    // Unknown keys, with the nearest valid key.
    [InlineData("seed: 1\nseeed: 2\n", 2, 1, "unknown key `seeed`", "Did you mean `seed`?", "Top-level keys: name,")]
    [InlineData("training:\n  learnign_rate: 1e-3\n", 2, 3, "unknown key `training.learnign_rate`", "Did you mean `learning_rate`?")]
    [InlineData("training:\n  learningRate: 1e-3\n", 2, 3, "unknown key `training.learningRate`", "Did you mean `learning_rate`?")]
    [InlineData("evals:\n  extends: _base.yaml\n", 2, 3, "unknown key `evals.extends`", "Keys of `evals`: core, capability, unlearning, sparse_probing, stability, smoothness.")]
    // The genre keys the unlearning evaluation replaced by forget / retain / forget_questions / retain_questions.
    [InlineData("evals:\n  unlearning:\n    forget_genre: news\n", 3, 5, "unknown key `evals.unlearning.forget_genre`")]
    [InlineData("evals:\n  unlearning:\n    questions_per_genre: 100\n", 3, 5, "unknown key `evals.unlearning.questions_per_genre`")]
    [InlineData("stages: [data, subject_model, activations, sae, evals]\ndata:\n  sources: [brown]\n", 3, 12,
        "`evals.unlearning.forget` is `moby_dick`, a source that `data.sources` (brown) does not read", "Add moby_dick to `data.sources`")]
    [InlineData("stages: [data, subject_model, activations, sae, evals]\nevals:\n  unlearning:\n    forget_questions: 50\n", 4, 23,
        "`evals.unlearning.forget_questions` is 50, below `evals.unlearning.min_questions` (100)", "Raise `evals.unlearning.forget_questions`")]
    [InlineData("sae:\n  temporal:\n    levels: [{fraction: 1.0, scale: [1]}]\n", 3, 30,
        "unknown key `sae.temporal.levels[0].scale`", "Did you mean `scales`?")]
    // Wrong types.
    [InlineData("threads: two\n", 1, 10, "`threads` must be a whole number, but it is `two`")]
    [InlineData("threads: 2.5\n", 1, 10, "`threads` must be a whole number, but `2.5` is not integral")]
    [InlineData("seed: 0x10\n", 1, 7, "`seed` must be a whole number, but it is `0x10`")]
    [InlineData("seed: \"42\"\n", 1, 7, "`seed` must be a whole number, but it is the quoted text \"42\"", "Remove the quotes.")]
    [InlineData("training:\n  learning_rate: fast\n", 2, 18, "`training.learning_rate` must be a number, but it is `fast`", "1e-4")]
    [InlineData("training:\n  learning_rate: .inf\n", 2, 18, "`training.learning_rate` must be a finite number")]
    [InlineData("evals:\n  core:\n    enabled: yes\n", 3, 14, "`evals.core.enabled` must be true or false, but it is `yes`")]
    [InlineData("seed: [1, 2]\n", 1, 7, "`seed` must be a whole number, but it is a list")]
    [InlineData("data:\n  source: [npm]\n", 2, 11, "`data.source` must be text, but it is a list", "Allowed values: npm, folder.")]
    [InlineData("stages: data\n", 1, 9, "`stages` must be a list of strings, but it is `data`", "[a, b]")]
    [InlineData("training: fast\n", 1, 11, "`training` must be a mapping", "Keys of `training`: tokens, batch_size,")]
    [InlineData("title:\nseed: 1\n", 1, 7, "`title` has no value; expected text", "Write \"\" for empty text")]
    // Ranges and allowed values.
    [InlineData("threads: 0\n", 1, 10, "`threads` is 0, outside the allowed range", "from 1 to 256 (inclusive)")]
    [InlineData("data:\n  train_fraction: 0.99\n", 2, 19, "`data.train_fraction` is 0.99, outside the allowed range", "from 0.05 to 0.98")]
    [InlineData("training:\n  learning_rate: 1e-9\n", 2, 18, "`training.learning_rate` is 1e-9, outside", "from 1e-7 to 1")]
    [InlineData("data:\n  source: nmp\n", 2, 11, "`data.source` is `nmp`, which is not an allowed value", "Allowed values: npm, folder.", "Did you mean `npm`?")]
    [InlineData("stages: [data, subject_modle]\n", 1, 16, "`stages[1]` is `subject_modle`", "Did you mean `subject_model`?")]
    // YAML structure.
    [InlineData("training:\n  batch_size: 64\n  batch_size: 128\n", 3, 3, "duplicate key `training.batch_size`", "already given at line 2")]
    [InlineData("training:\n\tbatch_size: 64\n", 2, 1, "a tab character in the indentation")]
    [InlineData("", 1, 1, "the manifest is empty")]
    [InlineData("# nothing but a comment\n\n", 1, 1, "the manifest is empty")]
    [InlineData("- data\n- sae\n", 1, 1, "the top level of a manifest must be a mapping", "but it is a list")]
    [InlineData("just some text\n", 1, 1, "must be a mapping", "but it is `just some text`")]
    [InlineData("seed: 1\n---\nseed: 2\n", 2, 1, "a second YAML document")]
    [InlineData("seed: !!int 5\n", 1, 7, "the YAML tag `tag:yaml.org,2002:int` is not supported")]
    // Rules that relate keys.
    [InlineData("stages: [data, activations, subject_model]\n", 1, 29, "`stages` lists `subject_model` after `activations`", "data, subject_model, activations, sae, evals")]
    [InlineData("stages: [data, activations]\n", 1, 9, "`stages` has `activations` but not `subject_model`")]
    [InlineData("stages: [data, data]\n", 1, 16, "`stages` lists `data` twice")]
    [InlineData("stages: []\n", 1, 9, "`stages` is empty")]
    [InlineData("data:\n  train_fraction: 0.9\n  val_fraction: 0.1\n", 3, 17,
        "`data.train_fraction` + `data.val_fraction` = 0.9 + 0.1 leaves no documents for the test split", "Expected a sum below 1")]
    [InlineData("sae:\n  architecture: temporal\n  temporal:\n    levels:\n      - fraction: 0.5\n      - fraction: 0.4\n", 5, 7,
        "the fractions of `sae.temporal.levels` sum to 0.9 (0.5 + 0.4)", "Expected them to sum to 1")]
    [InlineData("sae:\n  architecture: temporal\n  temporal:\n    levels:\n      - fraction: 1.0\n        scales: [1, 1]\n", 6, 21, "`sae.temporal.levels[0].scales` lists 1 twice")]
    [InlineData("sae:\n  architecture: temporal\n  temporal:\n    levels:\n      - scales: [128]\n", 5, 18, "`sae.temporal.levels[0].scales[0]` = 128 is not a usable step size", "from 1 to 127")]
    [InlineData("activations:\n  hook: blocks.2.resid\n", 2, 9, "`activations.hook` is `blocks.2.resid`, which is not a supported hook point", "blocks.<L>.hook_resid_post")]
    [InlineData("activations:\n  hook: blocks.7.hook_resid_post\n", 2, 9, "the built-in model has 4 blocks", "from 0 to 3")]
    [InlineData("subject_model:\n  kind: gpt2\n", 2, 9, "`subject_model.kind` is `gpt2` but `subject_model.path` is empty")]
    [InlineData("subject_model:\n  kind: gpt2\n  path: ${GPT2_DIR/x\n", 3, 9, "`subject_model.path`", "does not form `${NAME}`")]
    [InlineData("subject_model:\n  builtin:\n    width: 250\n    heads: 4\n", 4, 12, "`subject_model.builtin.heads` = 4 does not divide `subject_model.builtin.width` = 250")]
    [InlineData("sae:\n  architecture: topk\n  k: 5000\n  d_sae: 1024\n", 3, 6, "`sae.k` = 5000 is larger than `sae.d_sae` = 1024")]
    // The architecture decides (ArchitectureManifestTests has every rule of each).
    [InlineData("sae:\n  architecture: jumprelu-xyz\n", 2, 17, "`sae.architecture` is `jumprelu-xyz`, which is not a registered architecture",
        "Expected one of: batchtopk, standard, temporal, topk, tsae-contrastive.")]
    [InlineData("sae:\n  architecture: standard\n  temporal:\n    buffer: 8\n", 4, 13,
        "`sae.temporal.buffer` is set, but `sae.architecture: standard` does not read it")]
    [InlineData("stages: [data, subject_model, activations, sae]\nsae:\n  d_sae: 9000000\n", 3, 10,
        "the estimated peak memory of a `standard` training step", "exceeds training.memory_limit_mb = 16384 MiB", "lower training.batch_size or sae.d_sae")]
    [InlineData("stages: [data, subject_model, activations, sae]\ntraining:\n  tokens: 1000\n", 3, 11, "so the SAE would train 0 steps")]
    [InlineData("sae:\n  architecture: temporal\ntraining:\n  batch_size: 64\n", 4, 15, "`training.batch_size` = 64 is smaller than one context window")]
    [InlineData("name: results/run\n", 1, 7, "`name` is `results/run`, which cannot be a results file name")]
    public void Rejects_with_location_key_and_expectation(string yaml, int line, int column, params string[] fragments)
    {
        string path = folder.Write("run.yaml", yaml);
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{path}:{line}:{column}: ", message);
        foreach (string fragment in fragments)
            Assert.Contains(fragment, message);
    }

    [Theory]
    [InlineData("training:\n  batch_size: [1, 2\n", 3, "invalid YAML")]
    [InlineData("title: \"never closed\nseed: 1\n", 1, "invalid YAML")]
    [InlineData("training:\n  batch_size: 64\n lr: 1\n", 3, "invalid YAML")]
    public void Yaml_syntax_errors_become_messages_with_a_line(string yaml, int line, string fragment)
    {
        string path = folder.Write("run.yaml", yaml);
        string message = folder.Error("run.yaml");
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(path)}:{line}:\\d+: {fragment}: [a-z]", message);
        Assert.DoesNotContain("Idx:", message);
    }

    [Fact]
    public void An_error_inside_a_base_names_the_base_file()
    {
        string basePath = folder.Write("_base.yaml", "seed: 1\ntraining:\n  batch_size: 0\n");
        folder.Write("run.yaml", "extends: _base.yaml\nstages: [data]\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{basePath}:3:15: `training.batch_size` is 0, outside the allowed range", message);
    }

    [Fact]
    public void A_cycle_of_extends_is_reported_with_the_chain()
    {
        string a = folder.Write("a.yaml", "extends: b.yaml\n");
        string b = folder.Write("b.yaml", "seed: 3\nextends: a.yaml\n");
        string message = folder.Error("a.yaml");
        Assert.StartsWith($"{b}:2:10: `extends` makes a cycle.", message);
        Assert.Contains($"{a} -> {b} -> {a}", message);
    }

    [Fact]
    public void A_manifest_extending_itself_is_a_cycle()
    {
        string a = folder.Write("a.yaml", "extends: ./a.yaml\n");
        Assert.StartsWith($"{a}:1:10: `extends` makes a cycle.", folder.Error("a.yaml"));
    }

    [Fact]
    public void A_missing_base_is_named_with_a_suggestion()
    {
        folder.Write("_base.yaml", "seed: 1\n");
        string run = folder.Write("run.yaml", "stages: [data]\nextends: _bsae.yaml\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{run}:2:10: `extends` names {Path.Combine(folder.Root, "_bsae.yaml")}, which does not exist.", message);
        Assert.Contains("Did you mean `_base.yaml`?", message);
    }

    [Fact]
    public void Extends_must_be_a_path()
    {
        string run = folder.Write("run.yaml", "extends: [_a.yaml, _b.yaml]\n");
        Assert.StartsWith($"{run}:1:10: `extends` must be the relative path of a base manifest, but it is a list.", folder.Error("run.yaml"));
    }

    [Fact]
    public void A_base_cannot_set_the_name()
    {
        string basePath = folder.Write("_base.yaml", "seed: 1\nname: shared\n");
        folder.Write("run.yaml", "extends: _base.yaml\n");
        Assert.StartsWith($"{basePath}:2:1: `name` is set in a base manifest.", folder.Error("run.yaml"));
    }

    [Fact]
    public void A_missing_manifest_file_is_an_input_error()
    {
        folder.Write("run1.yaml", "seed: 1\n");
        string message = folder.Error("run2.yaml");
        Assert.Contains("manifest not found", message);
        Assert.Contains("Did you mean `run1.yaml`?", message);
    }

    [Fact]
    public void An_override_with_a_wrong_value_names_the_override()
    {
        folder.Write("run.yaml", "seed: 1\n");
        string message = folder.Error("run.yaml", "training.batch_size=many");
        Assert.StartsWith("override `--set training.batch_size=many` (column 21): `training.batch_size` must be a whole number, but it is `many`.", message);
    }

    [Fact]
    public void An_override_of_an_unknown_key_suggests_the_nearest()
    {
        folder.Write("run.yaml", "seed: 1\n");
        string message = folder.Error("run.yaml", "seed=2", "training.learnin_rate=3e-4");
        Assert.StartsWith("override `--set training.learnin_rate=3e-4` (column 10): unknown key `training.learnin_rate`.", message);
        Assert.Contains("Did you mean `learning_rate`?", message);
    }

    [Theory]
    [InlineData("threads", "an override must have the form `path.to.key=value`")]
    [InlineData("=3", "an override must have the form")]
    [InlineData("sae.temporal.levels[0].weight=1", "list items cannot be set one by one")]
    [InlineData("extends=_other.yaml", "`extends` cannot be overridden")]
    [InlineData("training..tokens=5", "is not a key path")]
    [InlineData("stages=[data, sae", "invalid YAML")]
    public void Malformed_overrides_are_rejected(string text, string fragment)
    {
        folder.Write("run.yaml", "seed: 1\n");
        string message = folder.Error("run.yaml", text);
        Assert.StartsWith($"override `--set {text}`", message);
        Assert.Contains(fragment, message);
    }

    [Fact]
    public void A_flow_list_nested_50000_deep_is_refused_at_the_depth_limit_without_reading_on()
    {
        string path = folder.Write("run.yaml", "description: " + new string('[', 50_000) + new string(']', 50_000) + "\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string message = folder.Error("run.yaml");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        // The top-level mapping is level 1 and the first `[` at column 14 level 2, so level 65 opens at column 77.
        Assert.StartsWith($"{path}:1:77: mappings and lists nested more than 64 levels deep.", message);
        Assert.Contains("The limit is 64 levels", message);
        Assert.Contains("Check for unclosed `[` or `{`", message);
    }

    [Fact]
    public void Block_mappings_nested_past_the_limit_are_refused_where_they_cross_it()
    {
        var yaml = new System.Text.StringBuilder();
        for (int level = 0; level < 1000; level++) yaml.Append(' ', 2 * level).Append($"k{level}:\n");
        string path = folder.Write("run.yaml", yaml.ToString());
        // k64's line opens the 65th mapping.
        Assert.StartsWith($"{path}:65:129: mappings and lists nested more than 64 levels deep.", folder.Error("run.yaml"));
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_read()
    {
        folder.Write("run.yaml", "description: " + new string('[', 63) + new string(']', 63) + "\n");
        Assert.Contains("`description` must be text, but it is a list", folder.Error("run.yaml"));
    }

    [Fact]
    public void An_override_value_nested_50000_deep_is_refused_with_a_short_message()
    {
        folder.Write("run.yaml", "seed: 1\n");
        string value = new string('[', 50_000) + new string(']', 50_000);
        string message = folder.Error("run.yaml", "description=" + value);
        Assert.StartsWith("override `--set description=[[[", message);
        // `description` is level 1, the value's first `[` (column 13) level 2.
        Assert.Contains("...` (column 76): mappings and lists nested more than 64 levels deep.", message);
        Assert.True(message.Length < 1000, $"message of {message.Length} characters");
    }

    [Fact]
    public void An_alias_counts_the_levels_of_what_it_names()
    {
        string path = folder.Write("run.yaml",
            "title: &deep " + new string('[', 60) + new string(']', 60) + "\n" +
            "description: [[[[[*deep]]]]]\n");
        Assert.StartsWith($"{path}:2:19: the alias `*deep` nests mappings and lists more than 64 levels deep.", folder.Error("run.yaml"));
    }

    [Fact]
    public void Aliases_of_aliases_cannot_multiply_the_work()
    {
        // Each level is a mapping of ten aliases to the level before: 10^8 values once expanded. A base and a manifest
        // that both hold it would have the merge walk every one of them.
        var yaml = new System.Text.StringBuilder("l0: &l0 {" + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"k{i}: x")) + "}\n");
        for (int level = 1; level < 9; level++)
            yaml.Append($"l{level}: &l{level} {{").Append(string.Join(", ", Enumerable.Range(0, 10).Select(i => $"k{i}: *l{level - 1}"))).Append("}\n");
        folder.Write("_base.yaml", yaml.ToString());
        string path = folder.Write("run.yaml", "extends: _base.yaml\n" + yaml);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string message = folder.Error("run.yaml");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.StartsWith($"{path}:5:", message);
        Assert.Contains("the YAML holds more than 10000 keys and values, each alias counted as a copy of what it names.", message);
    }

    [Fact]
    public void Extends_refuses_an_absolute_path_without_reading_it()
    {
        string run = folder.Write("run.yaml", "seed: 1\nextends: /etc/passwd\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{run}:2:10: `extends` is the absolute path /etc/passwd; it must be relative to the folder of this manifest.", message);
        Assert.Contains($"A base is a .yaml or .yml file in {folder.Root}, the folder of {run}, or below it.", message);
        Assert.DoesNotContain("root:", message);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("../outside.yaml")]
    [InlineData("bases/../../outside.yaml")]
    public void Extends_refuses_a_path_that_leaves_the_run_folder(string extends)
    {
        folder.Write("outside.yaml", "seed: 1 # secret-outside\n");
        string run = folder.Write("runs/run.yaml", $"extends: {extends}\n");
        string message = folder.Error("runs/run.yaml");
        string named = Path.GetFullPath(Path.Combine(folder.Root, "runs", extends));
        Assert.StartsWith($"{run}:1:10: `extends` names {named}, which is outside {Path.Combine(folder.Root, "runs")}.", message);
        Assert.Contains("Move or copy the base into that folder.", message);
        Assert.DoesNotContain("secret", message);
    }

    [Fact]
    public void Extends_refuses_a_file_that_is_not_a_manifest()
    {
        string notes = folder.Write("notes.txt", "password: hunter2-secret\n");
        string run = folder.Write("run.yaml", "extends: notes.txt\n");
        string message = folder.Error("run.yaml");
        Assert.StartsWith($"{run}:1:10: `extends` names {notes}, which is not a manifest.", message);
        Assert.Contains("A base is a .yaml or .yml file", message);
        Assert.DoesNotContain("hunter2", message);
    }

    [Theory]
    [InlineData("bases")]
    [InlineData("_base.yaml")]
    public void Extends_refuses_a_folder(string extends)
    {
        folder.Write(Path.Combine(extends, "_base.yaml"), "seed: 1\n");
        string run = folder.Write("run.yaml", $"extends: {extends}\n");
        Assert.StartsWith($"{run}:1:10: `extends` names {Path.Combine(folder.Root, extends)}, which is a folder.", folder.Error("run.yaml"));
    }

    [Fact]
    public void Extends_refuses_a_link_that_leads_out_of_the_run_folder()
    {
        string outside = folder.Write("outside.yaml", "seed: 1 # secret-outside\n");
        string link = Path.Combine(folder.Root, "runs", "_base.yaml");
        string run = folder.Write("runs/run.yaml", "extends: _base.yaml\n");
        File.CreateSymbolicLink(link, outside);
        string message = folder.Error("runs/run.yaml");
        Assert.StartsWith($"{run}:1:10: `extends` names {link}, a symbolic link to {outside}.", message);
        Assert.DoesNotContain("secret", message);
    }

    [Theory]
    [InlineData("training:\n  batch_size: [1, 2\n", "invalid YAML")]
    [InlineData("- data\n", "the top level of a manifest must be a mapping")]
    public void A_base_that_is_not_a_mapping_names_the_extends_that_brought_it_in(string baseYaml, string fragment)
    {
        string basePath = folder.Write("_base.yaml", baseYaml);
        string run = folder.Write("run.yaml", "seed: 1\nextends: _base.yaml\n");
        var lines = folder.Error("run.yaml").Split('\n');
        Assert.StartsWith($"{basePath}:", lines[0]);
        Assert.Contains(fragment, lines[0]);
        Assert.Equal($"  This base is named by `extends` at {run}:2:10.", lines[^1]);
    }

    sealed record RequiredSection
    {
        [RequiredKey] public string Corpus { get; init; } = "";
        public int Size { get; init; } = 3;
    }

    sealed record RequiredRoot
    {
        public RequiredSection Data { get; init; } = new();
    }

    [Fact]
    public void A_missing_required_key_is_reported_at_its_mapping()
    {
        var root = YamlManifestReader.ReadDocument("data:\n  size: 4\n", "test.yaml");
        var e = Assert.Throws<InvalidInputException>(() =>
            ManifestBinder.Bind<RequiredRoot>(root, new ManifestLocations(new SourceLocation("test.yaml", 1, 1))));
        Assert.StartsWith("test.yaml:2:3: missing required key `data.corpus`.", e.Message);
        Assert.Contains("Expected text", e.Message);
    }
}
