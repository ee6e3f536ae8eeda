// The subject_model stage: the built-in GPT-2 trained on the training split (cached as a Hugging Face-layout
// checkpoint), or a reference to a Hugging Face checkpoint folder (gpt2 / gemma2: the committed built-in model in
// models/, or a user's), checked by loading it.
using System.Text.Json.Nodes;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Pipeline;
using TemporalSae.Results;
using static TorchSharp.torch;

namespace TemporalSae.Models;

public sealed class SubjectModelStage : Stage
{
    public const string ModelFolder = "model";
    const string ReferenceFile = "checkpoint.json";

    public override string Name => "subject_model";
    public override IReadOnlyList<string> DependsOn => ["data"];
    public override int Version => 1;

    // The built-in model is trained on windows of data.context_size tokens, so that size is part of its identity.
    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject sections = Sections(config, "subject_model");
        sections["context_size"] = config.Data.ContextSize;
        return sections;
    }

    /// <summary>A checkpoint folder is identified by the content of its files, so a republished model is never taken for the old one.</summary>
    public override JsonNode? ExternalKeyMaterial(ExperimentConfig config, RunEnvironment environment)
    {
        if (config.SubjectModel.Kind == "builtin") return null;
        string folder;
        try { folder = CheckpointFolder(config.SubjectModel, environment); }
        catch (InvalidInputException) { return null; } // CheckInputs reports it before any stage runs.
        var files = new JsonObject();
        foreach (string path in Directory.GetFiles(folder).Where(IsCheckpointFile).Order(StringComparer.Ordinal))
            files[Path.GetFileName(path)] = ContentHash.OfFile(path);
        return new JsonObject { ["checkpoint_files"] = files };
    }

    static bool IsCheckpointFile(string path) => Path.GetFileName(path) is var name &&
        (name == SubjectModels.ConfigFileName || name == VocabMap.FileName || name.EndsWith(".safetensors", StringComparison.Ordinal)
         || name == "model.safetensors.index.json");

    public override void CheckInputs(ExperimentConfig config, RunEnvironment environment)
    {
        if (config.SubjectModel.Kind == "builtin") return;
        string folder = CheckpointFolder(config.SubjectModel, environment);
        if (config.SubjectModel.Config != "checkpoint")
            ModelShape.Of(config.SubjectModel, environment.RepositoryRoot); // a present checkpoint must match the shape it names
        int full = Tokenizers.Gpt2Tokenizer.VocabularySize;
        if (PublishedModel.TryReadRecord(folder)?["data"]?["bpe_vocab"]?.GetValue<int>() is { } trained && trained != config.Data.BpeVocab)
            throw new InvalidInputException(
                $"data.bpe_vocab is {config.Data.BpeVocab}, but the model in {folder} was trained on GPT-2's BPE cut to {trained} ids " +
                $"({PublishedModel.RecordFile}); set data.bpe_vocab: {trained}");
        bool reduced = VocabMap.TryLoad(folder) is not null;
        if (config.SubjectModel.Kind == "gpt2" && reduced && config.Data.BpeVocab == full)
            throw new InvalidInputException(
                $"subject_model.path: {folder} holds a model with a reduced vocabulary ({VocabMap.FileName}), but data.bpe_vocab is GPT-2's full " +
                $"{full}; set data.bpe_vocab to the vocabulary the model was trained with.");
        if (config.SubjectModel.Kind == "gpt2" && !reduced && config.Data.BpeVocab != full)
            throw new InvalidInputException(
                $"data.bpe_vocab is {config.Data.BpeVocab}, but {folder} is a GPT-2 with the full vocabulary, which reads GPT-2's whole BPE; set data.bpe_vocab: {full}");
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        SubjectModelConfig config = context.Config.SubjectModel;
        if (config.Kind == "builtin") return TrainBuiltin(context, folder);

        string checkpoint = CheckpointFolder(config, context.Environment);
        using ISubjectModel model = SubjectModels.Load(checkpoint, SubjectModels.ParseDtype(config.Dtype));
        if (model.ModelType != config.Kind)
            throw new InvalidInputException($"subject_model.kind is {config.Kind} but {checkpoint}/config.json says model_type {model.ModelType}");
        AtomicFile.WriteAllText(Path.Combine(folder, ReferenceFile), ResultJson.Serialize(new JsonObject { ["path"] = checkpoint }));
        JsonObject description = Describe(model);
        if (VocabMap.TryLoad(checkpoint) is { } vocab) description["reduced_vocabulary"] = $"{vocab.Size - 1} GPT-2 ids + unknown ({VocabMap.FileName})";
        if (PublishedModel.TryReadRecord(checkpoint) is { } record) description["published"] = record;
        return description;
    }

    /// <summary>The model of a built artifact, and the map from GPT-2 ids to its ids (built-in model only).</summary>
    public static LoadedSubjectModel Open(string artifactFolder, SubjectModelConfig config)
    {
        ScalarType dtype = SubjectModels.ParseDtype(config.Dtype);
        string builtin = Path.Combine(artifactFolder, ModelFolder);
        if (Directory.Exists(builtin))
            return new LoadedSubjectModel(SubjectModels.Load(builtin, dtype), VocabMap.TryLoad(builtin));
        var reference = JsonNode.Parse(File.ReadAllText(Path.Combine(artifactFolder, ReferenceFile)))!;
        string checkpoint = reference["path"]!.GetValue<string>();
        return new LoadedSubjectModel(SubjectModels.Load(checkpoint, dtype), VocabMap.TryLoad(checkpoint));
    }

    static JsonObject TrainBuiltin(StageContext context, string folder)
    {
        if (context.Environment.ReusePublishedModels && PublishedModel.FindByKey(context.Environment.RepositoryRoot, context.Key) is { } published)
            return PublishedModel.CopyInto(published, Path.Combine(folder, ModelFolder), context);
        PreparedData data = DataStage.Load(context.Input("data"));
        int contextSize = context.Config.Data.ContextSize;
        using var scope = NewDisposeScope();
        Tensor train = data.Windows(Split.Train, contextSize).TokenIdTensor(); // [N, T]
        Tensor val = data.Windows(Split.Val, contextSize).TokenIdTensor(); // [M, T]
        BuiltinLmReport report = BuiltinLmTrainer.Train(context.Config.SubjectModel.Builtin, context.Seed, train, val,
            Path.Combine(folder, ModelFolder), context.Log.WriteLine);
        if (!report.BeatsBigram && context.Config.SubjectModel.Builtin.RequireBeatsBigram)
            throw new RunFailedException(
                $"the built-in model's validation cross-entropy ({report.ValCe:F4}) does not beat the add-k bigram baseline " +
                $"({report.BigramCe:F4}); give it more subject_model.builtin.steps or a higher learning_rate");
        return new JsonObject
        {
            ["kind"] = "builtin",
            ["model_type"] = "gpt2",
            ["parameters"] = report.Parameters,
            ["vocab_size"] = report.VocabSize,
            ["context_size"] = report.ContextSize,
            ["steps"] = report.Steps,
            ["train_tokens"] = report.TrainTokens,
            ["final_train_loss"] = report.FinalTrainLoss,
            ["val_positions"] = report.ValPositions,
            ["val_cross_entropy"] = report.ValCe,
            ["unigram_cross_entropy"] = report.UnigramCe,
            ["bigram_cross_entropy"] = report.BigramCe,
            ["bigram_add_k"] = report.BigramK,
            ["beats_bigram"] = report.BeatsBigram,
        };
    }

    const string CheckpointContents =
        "a Hugging Face checkpoint folder: config.json, model.safetensors (or model.safetensors.index.json with its shards) " +
        "and the tokenizer files (GPT-2: vocab.json + merges.txt; Gemma-2: tokenizer.model)";

    /// <summary>The checkpoint folder of a gpt2/gemma2 model: ${VAR} expanded, a relative path taken from the repository root.</summary>
    public static string CheckpointFolder(SubjectModelConfig config, RunEnvironment environment)
    {
        string path;
        try
        {
            path = EnvironmentExpansion.Expand(config.Path, "subject_model.path");
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{e.Message}\n  The folder must be {CheckpointContents}.");
        }
        if (path.Length == 0)
            throw new InvalidInputException($"subject_model.kind is {config.Kind}: set subject_model.path to a Hugging Face checkpoint folder");
        path = Path.GetFullPath(path, environment.RepositoryRoot);
        if (!Directory.Exists(path) || !File.Exists(Path.Combine(path, SubjectModels.ConfigFileName)))
            throw new InvalidInputException($"subject_model.path: {path} is not {CheckpointContents}");
        return path;
    }

    static JsonObject Describe(ISubjectModel model) => new()
    {
        ["kind"] = model.ModelType,
        ["model_type"] = model.ModelType,
        ["d_model"] = model.DModel,
        ["layers"] = model.Layers,
        ["vocab_size"] = model.VocabSize,
    };
}

/// <summary>
/// A subject model with the id map its inputs need: the data stage's ids are the model's own, except for a model
/// with a reduced vocabulary (the built-in one), which maps GPT-2 ids to its ids.
/// </summary>
public sealed record LoadedSubjectModel(ISubjectModel Model, VocabMap? Vocab) : IDisposable
{
    /// <summary>Corpus token ids [.., T] (int64) as the model's own ids.</summary>
    public Tensor ToModelIds(Tensor tokenIds) => Vocab is null ? tokenIds.alias() : Vocab.ToModel(tokenIds);

    public void Dispose() => Model.Dispose();
}
