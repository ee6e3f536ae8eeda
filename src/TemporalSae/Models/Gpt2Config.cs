// GPT-2 hyper-parameters under Hugging Face's GPT2Config field names (transformers/models/gpt2/configuration_gpt2.py),
// read from and written to a checkpoint's config.json.
using System.Text.Json;
using TemporalSae.Infrastructure;

namespace TemporalSae.Models;

public sealed record Gpt2Config
{
    public required int VocabSize { get; init; }
    public required int NPositions { get; init; }
    public required int NEmbd { get; init; }
    public required int NLayer { get; init; }
    public required int NHead { get; init; }

    /// <summary>MLP width; HF's n_inner = null means 4 * n_embd.</summary>
    public int? NInner { get; init; }

    public double LayerNormEpsilon { get; init; } = 1e-5;

    /// <summary>gelu_new (GPT-2's tanh approximation), gelu_pytorch_tanh (the same) or gelu (exact erf).</summary>
    public string ActivationFunction { get; init; } = "gelu_new";

    public int Inner => NInner ?? 4 * NEmbd;
    public int HeadDim => NEmbd / NHead;

    public static readonly IReadOnlyList<string> SupportedActivations = ["gelu_new", "gelu_pytorch_tanh", "gelu"];

    /// <summary>Reads HF config.json fields; every problem found is reported together.</summary>
    public static Gpt2Config FromJson(JsonElement json, string source)
    {
        var problems = new List<string>();
        int Int(string key, int? fallback = null)
        {
            if (json.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i > 0) return i;
            if (fallback is { } f && (!json.TryGetProperty(key, out var w) || w.ValueKind == JsonValueKind.Null)) return f;
            problems.Add($"\"{key}\" must be a positive integer");
            return 1;
        }
        bool Flag(string key, bool expected)
        {
            if (!json.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return true;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False && v.GetBoolean() == expected) return true;
            problems.Add($"\"{key}\" = {v.GetRawText()} is not supported (only {expected.ToString().ToLowerInvariant()})");
            return false;
        }

        string modelType = json.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString()! : "";
        if (modelType != "gpt2") problems.Add($"\"model_type\" must be \"gpt2\", found \"{modelType}\"");

        int nEmbd = Int("n_embd");
        int nHead = Int("n_head");
        int nPositions = json.TryGetProperty("n_positions", out _) ? Int("n_positions") : Int("n_ctx");
        int? nInner = null;
        if (json.TryGetProperty("n_inner", out var inner) && inner.ValueKind != JsonValueKind.Null) nInner = Int("n_inner");
        if (nEmbd % nHead != 0) problems.Add($"\"n_embd\" ({nEmbd}) must be divisible by \"n_head\" ({nHead})");

        double eps = 1e-5;
        if (json.TryGetProperty("layer_norm_epsilon", out var e))
        {
            if (e.ValueKind == JsonValueKind.Number && e.GetDouble() > 0) eps = e.GetDouble();
            else problems.Add("\"layer_norm_epsilon\" must be a positive number");
        }
        string activation = "gelu_new";
        if (json.TryGetProperty("activation_function", out var a))
        {
            activation = a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText();
            if (!SupportedActivations.Contains(activation))
                problems.Add($"\"activation_function\" \"{activation}\" is not supported (supported: {string.Join(", ", SupportedActivations)})");
        }
        Flag("scale_attn_weights", true);
        Flag("scale_attn_by_inverse_layer_idx", false);
        Flag("reorder_and_upcast_attn", false);

        var config = new Gpt2Config
        {
            VocabSize = Int("vocab_size"),
            NPositions = nPositions,
            NEmbd = nEmbd,
            NLayer = Int("n_layer"),
            NHead = nHead,
            NInner = nInner,
            LayerNormEpsilon = eps,
            ActivationFunction = activation,
        };
        if (problems.Count > 0)
            throw new InvalidInputException($"GPT-2 config '{source}': {string.Join("; ", problems)}");
        return config;
    }

    /// <summary>config.json as transformers writes it for GPT2LMHeadModel (keys in a fixed order).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue("GPT2LMHeadModel");
            w.WriteEndArray();
            w.WriteString("model_type", "gpt2");
            w.WriteString("activation_function", ActivationFunction);
            w.WriteNumber("layer_norm_epsilon", LayerNormEpsilon);
            w.WriteNumber("n_ctx", NPositions);
            w.WriteNumber("n_embd", NEmbd);
            w.WriteNumber("n_head", NHead);
            if (NInner is { } inner) w.WriteNumber("n_inner", inner);
            else w.WriteNull("n_inner");
            w.WriteNumber("n_layer", NLayer);
            w.WriteNumber("n_positions", NPositions);
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteBoolean("tie_word_embeddings", true);
            w.WriteNumber("initializer_range", 0.02);
            w.WriteNumber("attn_pdrop", 0.0);
            w.WriteNumber("embd_pdrop", 0.0);
            w.WriteNumber("resid_pdrop", 0.0);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
