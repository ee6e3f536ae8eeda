// The shape of a subject model as far as cost estimates need it (parameters, FLOPs per token, bytes), known before
// any stage runs: from the checkpoint's config.json when it is present, else from subject_model.config's published
// shapes (GPT-2 small, Gemma-2 2B), else from the built-in model's keys.
using System.Text.Json;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Models;

/// <param name="StoredBytesPerParameter">Bytes per parameter in the checkpoint files (torch_dtype), which loading reads.</param>
/// <param name="GatedMlp">Gemma's gate/up/down MLP (three matrices) rather than GPT-2's two.</param>
public sealed record ModelShape(string Source, string ModelType, int Layers, int DModel, int Heads, int KvHeads, int HeadDim, int Intermediate,
    int Vocab, int Positions, bool GatedMlp, bool TiedEmbeddings, int StoredBytesPerParameter)
{
    /// <summary>google/gemma-2-2b's config.json (its safetensors are stored in float32).</summary>
    public static readonly ModelShape Gemma2_2B = new("google/gemma-2-2b", "gemma2", Layers: 26, DModel: 2304, Heads: 8, KvHeads: 4, HeadDim: 256,
        Intermediate: 9216, Vocab: 256_000, Positions: 0, GatedMlp: true, TiedEmbeddings: true, StoredBytesPerParameter: 4);

    /// <summary>GPT-2 small (openai-community/gpt2), stored in float32.</summary>
    public static readonly ModelShape Gpt2Small = new("gpt2", "gpt2", Layers: 12, DModel: 768, Heads: 12, KvHeads: 12, HeadDim: 64,
        Intermediate: 3072, Vocab: 50_257, Positions: 1024, GatedMlp: false, TiedEmbeddings: true, StoredBytesPerParameter: 4);

    /// <summary>Weights of one block's matrix products (attention q, k, v, o and the MLP), the FLOPs of a token are twice these.</summary>
    public long BlockMatrixParameters =>
        (long)DModel * HeadDim * (2L * Heads + 2L * KvHeads) + (GatedMlp ? 3L : 2L) * DModel * Intermediate;

    /// <summary>Every parameter: embeddings, blocks (norms and biases included), final norm, untied head.</summary>
    public long Parameters
    {
        get
        {
            long perBlock = BlockMatrixParameters + (GatedMlp ? 4L * DModel : 4L * DModel + HeadDim * (Heads + 2L * KvHeads) + DModel + Intermediate + DModel);
            return (long)Vocab * DModel * (TiedEmbeddings ? 1 : 2) + (long)Positions * DModel + Layers * perBlock + (GatedMlp ? 1 : 2) * (long)DModel;
        }
    }

    /// <summary>
    /// Forward FLOPs per token through <paramref name="blocks"/> blocks of <paramref name="contextSize"/>-token windows:
    /// the matrix products (2 per weight) and attention's scores and weighted sum (2 x 2 x T x heads x head_dim per
    /// block, full T x T as the implementation computes it), plus the unembedding when <paramref name="logits"/>.
    /// </summary>
    public double ForwardFlopsPerToken(int blocks, int contextSize, bool logits) =>
        blocks * (2.0 * BlockMatrixParameters + 4.0 * contextSize * Heads * HeadDim) + (logits ? 2.0 * Vocab * DModel : 0);

    /// <summary>Live activation bytes of one forward pass of [batch, T] in the compute dtype, logits aside: a few
    /// residual-sized tensors, the MLP's hidden layer(s) and one block's attention scores (float32).</summary>
    public long ForwardActivationBytes(long batch, int contextSize, int computeBytes) =>
        batch * contextSize * ((4L * DModel + (GatedMlp ? 2L : 1L) * Intermediate) * computeBytes) + batch * Heads * (long)contextSize * contextSize * 4;

    /// <summary>Logits of one full pass of [batch, T]: in the compute dtype and once more in float32 for the softmax.</summary>
    public long LogitBytes(long batch, int contextSize, int computeBytes) => batch * contextSize * (long)Vocab * (computeBytes + 4);

    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{ModelType} {(Parameters >= 1e9 ? $"{Parameters / 1e9:F2}B" : $"{Parameters / 1e6:F1}M")} parameters, {Layers} blocks, d_model {DModel}, vocabulary {Vocab} ({Source})");

    /// <summary>
    /// The manifest's model shape: the checkpoint's config.json when it is there (and, with subject_model.config set,
    /// checked against it), else subject_model.config's published shape, else the built-in model's keys; null when
    /// nothing tells it (a checkpoint not here yet and subject_model.config: checkpoint).
    /// </summary>
    public static ModelShape? Of(SubjectModelConfig config, string repositoryRoot)
    {
        if (config.Kind == "builtin")
        {
            BuiltinModelConfig b = config.Builtin;
            return new ModelShape("subject_model.builtin", "gpt2", b.Layers, b.Width, b.Heads, b.Heads, b.Width / b.Heads, 4 * b.Width, b.Vocab,
                Positions: 4096, GatedMlp: false, TiedEmbeddings: true, StoredBytesPerParameter: 4);
        }
        ModelShape? published = config.Config switch
        {
            "google/gemma-2-2b" => Gemma2_2B,
            "gpt2" => Gpt2Small,
            _ => null,
        };
        string? path = ConfigPath(config, repositoryRoot);
        if (path is null) return published;
        ModelShape present = FromConfigJson(path);
        if (published is not null && (present.Layers, present.DModel, present.Vocab, present.ModelType) != (published.Layers, published.DModel, published.Vocab, published.ModelType))
            throw new InvalidInputException(
                $"subject_model.config is {config.Config}, but {path} describes another model ({present.Describe()}); " +
                "set subject_model.config: checkpoint to take the checkpoint's own shape, or point subject_model.path at that model.");
        return present;
    }

    static string? ConfigPath(SubjectModelConfig config, string repositoryRoot)
    {
        string folder;
        try { folder = EnvironmentExpansion.Expand(config.Path, "subject_model.path"); }
        catch (InvalidInputException) { return null; }
        if (folder.Length == 0) return null;
        string path = Path.Combine(Path.GetFullPath(folder, repositoryRoot), SubjectModels.ConfigFileName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>The shape in a GPT-2 or Gemma-2 config.json.</summary>
    public static ModelShape FromConfigJson(string path)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"'{path}' is not valid JSON: {e.Message}");
        }
        int Int(params string[] keys)
        {
            foreach (string key in keys)
                if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int value) && value > 0) return value;
            throw new InvalidInputException($"'{path}' has no positive whole number \"{keys[0]}\"; expected a Hugging Face GPT-2 or Gemma-2 config.json.");
        }
        int? Optional(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int value) ? value : null;
        string type = root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        int stored = root.TryGetProperty("torch_dtype", out var storedType) && storedType.ValueKind == JsonValueKind.String
            && storedType.GetString() is "bfloat16" or "float16" ? 2 : 4;
        bool tied = !root.TryGetProperty("tie_word_embeddings", out var tie) || tie.ValueKind != JsonValueKind.False;
        if (type == "gemma2")
        {
            int d = Int("hidden_size"), heads = Int("num_attention_heads");
            return new ModelShape(path, type, Int("num_hidden_layers"), d, heads, Optional("num_key_value_heads") ?? heads, Optional("head_dim") ?? d / heads,
                Int("intermediate_size"), Int("vocab_size"), Positions: 0, GatedMlp: true, TiedEmbeddings: tied, StoredBytesPerParameter: stored);
        }
        if (type == "gpt2")
        {
            int d = Int("n_embd", "hidden_size"), heads = Int("n_head");
            return new ModelShape(path, type, Int("n_layer"), d, heads, heads, d / heads, Optional("n_inner") ?? 4 * d, Int("vocab_size"),
                Int("n_positions"), GatedMlp: false, TiedEmbeddings: true, StoredBytesPerParameter: stored);
        }
        throw new InvalidInputException($"'{path}': model_type \"{type}\" has no cost estimate; supported model types: gemma2, gpt2.");
    }
}
