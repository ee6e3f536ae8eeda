// Which tokenizer the data stage uses (data.tokenizer): GPT-2's BPE from the data files, cut by data.bpe_vocab, or
// the subject model's own from its checkpoint folder (GPT-2: vocab.json + merges.txt; Gemma-2: tokenizer.model).
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Tokenizers;

namespace TemporalSae.Data;

/// <summary>
/// The resolved choice: <see cref="Folder"/> and <see cref="Files"/> are the checkpoint folder and its tokenizer files
/// when the subject model's tokenizer is used, null and empty for GPT-2's BPE from the data files.
/// </summary>
public sealed record CorpusTokenizer(string? Folder, string? ModelType, IReadOnlyList<string> Files)
{
    public const string RecordFile = "tokenizer.json";

    public bool IsSubjectModels => Folder is not null;

    static readonly CorpusTokenizer Gpt2Bpe = new(null, null, []);

    /// <summary>
    /// data.tokenizer resolved against the subject model's checkpoint folder. auto takes the checkpoint's tokenizer
    /// files when it has them and GPT-2's BPE otherwise, except for Gemma-2, which cannot read GPT-2 ids.
    /// </summary>
    public static CorpusTokenizer Resolve(ExperimentConfig config, RunEnvironment environment)
    {
        string choice = config.Data.Tokenizer;
        SubjectModelConfig model = config.SubjectModel;
        if (model.Kind == "builtin")
        {
            if (choice == "subject_model")
                throw new InvalidInputException(
                    "data.tokenizer is subject_model, but subject_model.kind is builtin: the built-in model is trained here on GPT-2's BPE " +
                    "and has no tokenizer of its own; use data.tokenizer: auto or gpt2.");
            return Gpt2Bpe;
        }
        if (choice == "gpt2")
        {
            if (model.Kind == "gemma2")
                throw new InvalidInputException(
                    "data.tokenizer is gpt2, but subject_model.kind is gemma2: a Gemma-2 model reads its own SentencePiece ids, not GPT-2's; " +
                    "use data.tokenizer: auto or subject_model with a checkpoint folder that holds tokenizer.model.");
            return Gpt2Bpe;
        }
        string folder = SubjectModelStage.CheckpointFolder(model, environment);
        string[] files = model.Kind == "gemma2"
            ? [Gemma2Tokenizer.ModelFileName]
            : [SubjectTokenizer.VocabFileName, SubjectTokenizer.MergesFileName];
        string[] present = files.Where(f => File.Exists(Path.Combine(folder, f))).ToArray();
        if (present.Length == files.Length) return new CorpusTokenizer(folder, model.Kind, files);
        if (present.Length > 0)
            throw new InvalidInputException(
                $"subject_model.path: {folder} has {string.Join(" and ", present)} but not {string.Join(" and ", files.Except(present))}; " +
                $"the model's tokenizer needs {string.Join(" + ", files)}. Copy the missing file from the model's release, or remove the others.");
        if (choice == "subject_model" || model.Kind == "gemma2")
            throw new InvalidInputException(
                $"data.tokenizer is {choice}, but subject_model.path: {folder} has no {string.Join(" + ", files)}; " +
                $"copy the tokenizer file{(files.Length > 1 ? "s" : "")} of the model's release next to its config.json" +
                (model.Kind == "gemma2" ? " (a Gemma-2 model cannot read GPT-2's BPE ids)." : ", or use data.tokenizer: gpt2."));
        return Gpt2Bpe;
    }

    /// <summary>What the data stage's key adds for the subject model's tokenizer (nothing for GPT-2's BPE, as before the key existed).</summary>
    public JsonObject? KeyMaterial() => IsSubjectModels
        ? new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["model_type"] = ModelType,
                ["files"] = new JsonObject(Files.Select(f => KeyValuePair.Create<string, JsonNode?>(f, ContentHash.OfFile(Path.Combine(Folder!, f))))),
            },
        }
        : null;

    /// <summary>Checks what can be checked before reading the files: GPT-2's cut BPE applies to GPT-2's BPE only.</summary>
    public void CheckAgainst(DataConfig data)
    {
        if (IsSubjectModels && data.BpeVocab != Gpt2Tokenizer.VocabularySize)
            throw new InvalidInputException(
                $"data.bpe_vocab is {data.BpeVocab}, but the corpus is tokenised with the subject model's own tokenizer ({string.Join(" + ", Files)} in {Folder}, " +
                $"data.tokenizer: {data.Tokenizer}), which bpe_vocab does not cut; set data.bpe_vocab: {Gpt2Tokenizer.VocabularySize}, or data.tokenizer: gpt2.");
    }

    public ITextTokenizer Load(DataFiles files, int bpeVocab)
    {
        if (!IsSubjectModels) return Gpt2Tokenizer.Load(files, bpeVocab);
        return ModelType == "gemma2"
            ? SentencePieceTextTokenizer.Load(Path.Combine(Folder!, Gemma2Tokenizer.ModelFileName))
            : Gpt2Tokenizer.Load(Path.Combine(Folder!, SubjectTokenizer.VocabFileName), Path.Combine(Folder!, SubjectTokenizer.MergesFileName));
    }

    /// <summary>How the data stage names the tokenizer in its log.</summary>
    public string Describe(int bpeVocab) => IsSubjectModels
        ? $"the subject model's own tokenizer ({string.Join(" + ", Files)} in {Folder})"
        : bpeVocab == Gpt2Tokenizer.VocabularySize ? "GPT-2's BPE" : $"GPT-2's BPE cut to {bpeVocab} ids";

    /// <summary>The record of a subject model's tokenizer: written beside the token file and into the stage summary.</summary>
    public JsonObject Record(ITextTokenizer tokenizer) => new()
    {
        ["source"] = "subject_model",
        ["model_type"] = ModelType,
        ["kind"] = tokenizer.Kind,
        ["files"] = new JsonArray(Files.Select(f => (JsonNode)f).ToArray()),
        ["vocabulary_size"] = tokenizer.VocabularySize,
        ["bos_id"] = tokenizer.BosId,
        ["bos_token"] = tokenizer.BosToken,
    };
}
