using System.Text.Json.Nodes;
using TemporalSae.Data;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Cli.Tests;

/// <summary>
/// Every stage and every evaluation, in the smoke profile, on tiny random GPT-2 and Gemma-2 checkpoints that carry their
/// own tokenizer files (vocab.json + merges.txt; a SentencePiece tokenizer.model with byte fallback), through the real
/// command. The corpus is tokenised with each model's tokenizer and every window starts with that tokenizer's BOS.
/// </summary>
public sealed class OwnTokenizerPipelineTests(OwnTokenizerRuns runs) : IClassFixture<OwnTokenizerRuns>
{
    [Theory]
    [InlineData("gpt2", "gpt2_bpe", "vocab.json")]
    [InlineData("gemma2", "sentencepiece", "tokenizer.model")]
    public void The_data_stage_records_the_models_tokenizer_and_its_bos(string model, string kind, string file)
    {
        JsonNode tokenizer = runs.Result(model)["stages"]!["data"]!["tokenizer"]!;
        Assert.Equal("subject_model", tokenizer["source"]!.GetValue<string>());
        Assert.Equal(kind, tokenizer["kind"]!.GetValue<string>());
        Assert.Contains(file, tokenizer["files"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(runs.Bos(model), tokenizer["bos_id"]!.GetValue<int>());
        Assert.Equal(runs.VocabularySize(model), tokenizer["vocabulary_size"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("gemma2")]
    public void Every_window_and_document_starts_with_the_tokenizers_bos_and_ids_fit_the_model(string model)
    {
        PreparedData data = DataStage.Load(runs.DataArtifact(model));
        Assert.Equal(runs.Bos(model), data.Corpus.BosId);
        ContextWindows windows = data.Windows(Split.Train, 128);
        Assert.True(windows.Count > 10);
        Assert.All(Enumerable.Range(0, windows.Count), w => Assert.Equal(runs.Bos(model), windows.Tokens.TokenIds[w * 128]));
        Assert.All(windows.Tokens.TokenIds, id => Assert.InRange(id, 0, runs.VocabularySize(model) - 1));
        // Special tokens are exactly the BOS: no GPT-2 <|endoftext|> left in a Gemma corpus.
        Assert.All(Enumerable.Range(0, windows.Tokens.Count).Where(i => windows.Tokens.Special[i]),
            i => Assert.Equal(runs.Bos(model), windows.Tokens.TokenIds[i]));
        Assert.Contains(data.Corpus.PosTags, t => t == "nn");
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("gemma2")]
    public void Every_stage_and_evaluation_reports(string model)
    {
        JsonNode result = runs.Result(model);
        Assert.Equal(model, result["stages"]!["subject_model"]!["model_type"]!.GetValue<string>());
        Assert.Equal(32, result["stages"]!["subject_model"]!["d_model"]!.GetValue<int>());
        Assert.NotNull(result["stages"]!["activations"]!["heldout_cross_entropy"]);
        Assert.NotNull(result["stages"]!["sae"]);
        foreach (string eval in new[] { "core", "capability", "unlearning", "sparse_probing", "stability", "smoothness" })
            Assert.True(result["evals"]?[eval] is JsonObject, $"{model}: no evals.{eval} in the result");
        // A random model has a near-uniform next-token distribution: its cross-entropy is near ln(vocabulary).
        double clean = result["evals"]!["core"]!["model_performance_preservation"]!["ce_loss_without_sae"]!.GetValue<double>();
        Assert.InRange(clean, 0.5 * Math.Log(runs.VocabularySize(model)), 1.5 * Math.Log(runs.VocabularySize(model)));
        // Windows start with the BOS the truncated inputs get too, so the last 127 tokens after it are the whole window.
        JsonNode whole = result["evals"]!["stability"]!["by_window"]!["127"]!;
        Assert.Equal(1.0, whole["jaccard"]!.GetValue<double>());
    }
}

/// <summary>The two runs, once for the class, sharing one scratch cache (the text sources download once).</summary>
public sealed class OwnTokenizerRuns : IDisposable
{
    readonly TempFolder scratch = new("tsae-own-tok-");
    readonly Dictionary<string, JsonNode> results = [];
    readonly Dictionary<string, int> vocabularies = [];

    public OwnTokenizerRuns()
    {
        Tsae.PrepareScratchRepository(scratch);
        string profile = Path.Combine(Tsae.RepositoryRoot, "experiments", "profiles", "smoke.yaml");
        var environment = new Dictionary<string, string> { ["TSAE_CACHE"] = Path.Combine(scratch, "cache") };
        foreach (string model in new[] { "gpt2", "gemma2" })
        {
            string checkpoint = Path.Combine(scratch, "checkpoints", model);
            if (model == "gpt2") TinyCheckpoints.WriteGpt2(checkpoint);
            else TinyCheckpoints.WriteGemma2(checkpoint);
            vocabularies[model] = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))
                .RootElement.GetProperty("vocab_size").GetInt32();
            string manifest = Tsae.WriteScratchExperiment(scratch, $"own-{model}", $$"""
                extends: _base.yaml
                data:
                  # Brown alone: genres to probe and unlearn, POS tags to align, and a quick tokenisation.
                  sources: [brown]
                  tokenizer: subject_model
                  bpe_vocab: 50257
                subject_model: {kind: {{model}}, path: checkpoints/{{model}}}
                activations: {hook: blocks.3.hook_resid_post}
                evals:
                  stability: {windows: [8, 127]}
                  # Moby-Dick is not read here; a Brown genre with enough test documents is forgotten instead.
                  unlearning: {forget: learned}
                """);
            var run = Tsae.Run(["run", manifest, "--profile", profile, "--results", Path.Combine(scratch, "results")], environment);
            Assert.True(run.ExitCode == 0, $"{model}: {run.Stderr}");
            results[model] = JsonNode.Parse(File.ReadAllText(Path.Combine(scratch, "results", $"own-{model}.json")))!;
        }
    }

    public JsonNode Result(string model) => results[model];

    public int VocabularySize(string model) => vocabularies[model];

    /// <summary>GPT-2's tiny BPE puts &lt;|endoftext|&gt; last; Gemma's tokenizer has &lt;bos&gt; at 2.</summary>
    public int Bos(string model) => model == "gpt2" ? vocabularies[model] - 1 : TinyTokenizers.SentencePieceBos;

    /// <summary>The data stage's artifact folder of a run (its key is in the result's provenance).</summary>
    public string DataArtifact(string model)
    {
        string key = results[model]["provenance"]!["stages"]!["data"]!["cache_key"]!.GetValue<string>();
        return Path.Combine(scratch, "cache", "data", key);
    }

    public void Dispose() => scratch.Dispose();
}
