// Gemma-2 architecture settings read from a Hugging Face config.json; field names and defaults follow
// transformers' configuration_gemma2.py (Gemma2Config), so a config that HF loads is read the same way here.
using System.Text.Json;
using TemporalSae.Infrastructure;

namespace TemporalSae.Models;

/// <summary>The attention pattern of one Gemma-2 layer.</summary>
public enum Gemma2AttentionKind
{
    /// <summary>Each query sees the previous sliding_window keys, itself included (HF "sliding_attention").</summary>
    Sliding,

    /// <summary>Each query sees every earlier key (HF "full_attention").</summary>
    Full,
}

/// <summary>Gemma-2 hyper-parameters under their HF names (snake_case in config.json).</summary>
public sealed record Gemma2Config
{
    public int VocabSize { get; init; } = 256000;
    public int HiddenSize { get; init; } = 2304;
    public int IntermediateSize { get; init; } = 9216;
    public int NumHiddenLayers { get; init; } = 26;
    public int NumAttentionHeads { get; init; } = 8;
    public int NumKeyValueHeads { get; init; } = 4;

    /// <summary>Per-head width; Gemma-2 sets it independently of hidden_size / heads.</summary>
    public int HeadDim { get; init; } = 256;

    /// <summary>ACT2FN name of the gate activation; Gemma-2 uses tanh-approximate GELU.</summary>
    public string HiddenActivation { get; init; } = "gelu_pytorch_tanh";

    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Attention scores are multiplied by query_pre_attn_scalar^-0.5 (not head_dim^-0.5).</summary>
    public double QueryPreAttnScalar { get; init; } = 256;

    public int SlidingWindow { get; init; } = 4096;

    /// <summary>cap * tanh(score / cap) on attention scores; null turns it off.</summary>
    public double? AttnLogitSoftcapping { get; init; } = 50.0;

    /// <summary>cap * tanh(logit / cap) on the output logits; null turns it off.</summary>
    public double? FinalLogitSoftcapping { get; init; } = 30.0;

    /// <summary>The token Gemma-2 expects at the start of every sequence (HF default 2, "&lt;bos&gt;").</summary>
    public int BosTokenId { get; init; } = 2;

    /// <summary>Gemma-2 ties the output projection to the input embedding.</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>One entry per layer. HF's default when config.json has no layer_types: even layers slide.</summary>
    public IReadOnlyList<Gemma2AttentionKind> LayerTypes { get; init; } = DefaultLayerTypes(26);

    /// <summary>Query heads per key/value head (grouped-query attention).</summary>
    public int KeyValueGroups => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>HF Gemma2Config: layer i slides when (i + 1) % 2 != 0, i.e. layers 0, 2, 4, ... slide.</summary>
    public static IReadOnlyList<Gemma2AttentionKind> DefaultLayerTypes(int layers) =>
        Enumerable.Range(0, layers).Select(i => i % 2 == 0 ? Gemma2AttentionKind.Sliding : Gemma2AttentionKind.Full).ToArray();

    /// <summary>Reads a Hugging Face config.json text. Missing fields take HF's defaults; unsupported settings and
    /// inconsistent values raise InvalidInputException naming the field.</summary>
    public static Gemma2Config Parse(string configJson, string source = "config.json")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(configJson);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{source}: not valid JSON ({e.Message}).");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"{source}: expected a JSON object with the model's settings.");
            var reader = new FieldReader(root, source);

            string? modelType = reader.String("model_type");
            if (modelType is not null && modelType != "gemma2")
                throw new InvalidInputException(
                    $"{source}: model_type is \"{modelType}\", expected \"gemma2\" for a Gemma-2 checkpoint.");

            var defaults = new Gemma2Config();
            int layers = reader.Int("num_hidden_layers") ?? defaults.NumHiddenLayers;
            var config = new Gemma2Config
            {
                VocabSize = reader.Int("vocab_size") ?? defaults.VocabSize,
                HiddenSize = reader.Int("hidden_size") ?? defaults.HiddenSize,
                IntermediateSize = reader.Int("intermediate_size") ?? defaults.IntermediateSize,
                NumHiddenLayers = layers,
                NumAttentionHeads = reader.Int("num_attention_heads") ?? defaults.NumAttentionHeads,
                NumKeyValueHeads = reader.Int("num_key_value_heads") ?? defaults.NumKeyValueHeads,
                HeadDim = reader.Int("head_dim") ?? defaults.HeadDim,
                // HF reads hidden_activation; hidden_act is the older field it falls back to.
                HiddenActivation = reader.String("hidden_activation") ?? reader.String("hidden_act") ?? defaults.HiddenActivation,
                RmsNormEps = reader.Double("rms_norm_eps") ?? defaults.RmsNormEps,
                RopeTheta = reader.Double("rope_theta") ?? defaults.RopeTheta,
                QueryPreAttnScalar = reader.Double("query_pre_attn_scalar") ?? defaults.QueryPreAttnScalar,
                SlidingWindow = reader.Int("sliding_window") ?? defaults.SlidingWindow,
                AttnLogitSoftcapping = reader.NullableDouble("attn_logit_softcapping", defaults.AttnLogitSoftcapping),
                FinalLogitSoftcapping = reader.NullableDouble("final_logit_softcapping", defaults.FinalLogitSoftcapping),
                BosTokenId = reader.Int("bos_token_id") ?? defaults.BosTokenId,
                TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? defaults.TieWordEmbeddings,
                LayerTypes = reader.LayerTypes("layer_types") ?? DefaultLayerTypes(Math.Max(layers, 0)),
            };

            if (reader.Bool("attention_bias") == true)
                throw new InvalidInputException(
                    $"{source}: attention_bias is true; Gemma-2 checkpoints have no attention biases and this reader does not load them.");
            if (root.TryGetProperty("rope_scaling", out JsonElement scaling) && scaling.ValueKind != JsonValueKind.Null)
                throw new InvalidInputException(
                    $"{source}: rope_scaling is set; Gemma-2 uses plain rotary embeddings and scaled variants are not supported.");

            config.Validate(source);
            return config;
        }
    }

    /// <summary>Checks the settings against each other; throws InvalidInputException listing every problem.</summary>
    public void Validate(string source = "Gemma-2 config")
    {
        var problems = new List<string>();
        void Positive(string name, int value)
        {
            if (value < 1) problems.Add($"{name} is {value}, expected at least 1");
        }

        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("num_key_value_heads", NumKeyValueHeads);
        Positive("head_dim", HeadDim);
        if (HeadDim > 0 && HeadDim % 2 != 0) problems.Add($"head_dim is {HeadDim}, rotary embeddings need an even head_dim");
        if (NumAttentionHeads > 0 && NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads != 0)
            problems.Add($"num_attention_heads ({NumAttentionHeads}) is not a multiple of num_key_value_heads ({NumKeyValueHeads})");
        if (!(RmsNormEps > 0)) problems.Add($"rms_norm_eps is {RmsNormEps}, expected > 0");
        if (!(RopeTheta > 0)) problems.Add($"rope_theta is {RopeTheta}, expected > 0");
        if (!(QueryPreAttnScalar > 0)) problems.Add($"query_pre_attn_scalar is {QueryPreAttnScalar}, expected > 0");
        if (AttnLogitSoftcapping is { } a && !(a > 0)) problems.Add($"attn_logit_softcapping is {a}, expected > 0 or null");
        if (FinalLogitSoftcapping is { } f && !(f > 0)) problems.Add($"final_logit_softcapping is {f}, expected > 0 or null");
        if (LayerTypes.Count != NumHiddenLayers)
            problems.Add($"layer_types has {LayerTypes.Count} entries, expected one per layer ({NumHiddenLayers})");
        if (LayerTypes.Contains(Gemma2AttentionKind.Sliding) && SlidingWindow < 1)
            problems.Add($"sliding_window is {SlidingWindow}, expected at least 1 when a layer uses sliding attention");
        if (HiddenActivation is not ("gelu_pytorch_tanh" or "gelu_new" or "gelu"))
            problems.Add($"hidden_activation is \"{HiddenActivation}\", expected \"gelu_pytorch_tanh\" (Gemma-2), \"gelu_new\" or \"gelu\"");
        if (problems.Count > 0)
            throw new InvalidInputException($"{source}: invalid Gemma-2 settings:\n  " + string.Join("\n  ", problems));
    }

    /// <summary>Typed access to optional config.json fields, with messages that name the field.</summary>
    sealed class FieldReader(JsonElement root, string source)
    {
        bool TryGet(string name, out JsonElement value) =>
            root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

        InvalidInputException Wrong(string name, string expected, JsonElement value) =>
            new($"{source}: {name} is {value.GetRawText()}, expected {expected}.");

        public string? String(string name)
        {
            if (!TryGet(name, out JsonElement v)) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string", v);
        }

        public int? Int(string name)
        {
            if (!TryGet(name, out JsonElement v)) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
            // Some writers emit integral settings as 12.0.
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
                return (int)d;
            throw Wrong(name, "an integer", v);
        }

        public double? Double(string name)
        {
            if (!TryGet(name, out JsonElement v)) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(name, "a number", v);
        }

        /// <summary>Absent: the default; explicit null: off.</summary>
        public double? NullableDouble(string name, double? fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            if (v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(name, "a number or null", v);
        }

        public bool? Bool(string name)
        {
            if (!TryGet(name, out JsonElement v)) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(name, "true or false", v),
            };
        }

        public IReadOnlyList<Gemma2AttentionKind>? LayerTypes(string name)
        {
            if (!TryGet(name, out JsonElement v)) return null;
            if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "a list of \"sliding_attention\" / \"full_attention\"", v);
            var kinds = new List<Gemma2AttentionKind>();
            foreach (JsonElement item in v.EnumerateArray())
            {
                kinds.Add(item.ValueKind == JsonValueKind.String ? item.GetString() switch
                {
                    "sliding_attention" => Gemma2AttentionKind.Sliding,
                    "full_attention" => Gemma2AttentionKind.Full,
                    _ => throw Wrong(name, "entries \"sliding_attention\" or \"full_attention\"", item),
                } : throw Wrong(name, "entries \"sliding_attention\" or \"full_attention\"", item));
            }

            return kinds;
        }
    }
}
