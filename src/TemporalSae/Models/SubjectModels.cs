// Loads a subject model from a Hugging Face checkpoint folder, choosing the implementation by config.json's
// model_type through an explicit registry (unknown types are an error that lists the known ones).
using System.Text.Json;
using TemporalSae.Infrastructure;
using TemporalSae.Safetensors;
using static TorchSharp.torch;

namespace TemporalSae.Models;

/// <summary>Builds a model from its folder, parsed config.json, opened weights and compute dtype.</summary>
public delegate ISubjectModel SubjectModelLoader(string folder, JsonElement config, SafetensorsCheckpoint weights, ScalarType dtype);

public static class SubjectModels
{
    public const string ConfigFileName = "config.json";

    static readonly IReadOnlyDictionary<string, SubjectModelLoader> Registry = new Dictionary<string, SubjectModelLoader>(StringComparer.Ordinal)
    {
        ["gpt2"] = Gpt2Model.Load,
        ["gemma2"] = LoadGemma2,
    };

    public static IReadOnlyList<string> SupportedModelTypes { get; } = Registry.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Loads the checkpoint folder in compute dtype float32 or bfloat16.</summary>
    public static ISubjectModel Load(string folder, ScalarType dtype = ScalarType.Float32)
    {
        using var config = ReadConfig(folder);
        string configPath = Path.Combine(folder, ConfigFileName);
        if (!config.RootElement.TryGetProperty("model_type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            throw new InvalidInputException($"'{configPath}' has no \"model_type\" string; supported model types: {string.Join(", ", SupportedModelTypes)}");
        string modelType = typeElement.GetString()!;
        if (!Registry.TryGetValue(modelType, out var loader))
            throw new InvalidInputException($"'{configPath}': model_type \"{modelType}\" is not supported; supported model types: {string.Join(", ", SupportedModelTypes)}");
        using var weights = SafetensorsCheckpoint.Open(folder);
        return loader(folder, config.RootElement, weights, dtype);
    }

    static ISubjectModel LoadGemma2(string folder, JsonElement config, SafetensorsCheckpoint weights, ScalarType dtype)
    {
        var parsed = Gemma2Config.Parse(config.GetRawText(), Path.Combine(folder, ConfigFileName));
        IReadOnlyDictionary<string, Tensor> tensors = weights.LoadAll();
        try
        {
            return Gemma2Model.FromWeights(parsed, tensors, dtype, source: folder);
        }
        finally
        {
            // The model copies what it converts and shares what it does not; disposing the loader's handles is safe.
            foreach (Tensor tensor in tensors.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// The residual-stream width of the manifest's subject model when it is known before any stage runs: the built-in
    /// model's width, the hidden size in config.json of a checkpoint folder that is present, or that of the shape
    /// subject_model.config names. Null otherwise (the subject_model stage reports what is missing).
    /// </summary>
    public static int? DModelOf(Manifests.SubjectModelConfig config, string repositoryRoot)
    {
        if (config.Kind == "builtin") return config.Builtin.Width;
        // Before the checkpoint is here, subject_model.config names the shape.
        if (config.Config != "checkpoint" && ModelShape.Of(config, repositoryRoot) is { } shape) return shape.DModel;
        string folder;
        try { folder = Manifests.EnvironmentExpansion.Expand(config.Path, "subject_model.path"); }
        catch (InvalidInputException) { return null; }
        if (folder.Length == 0) return null;
        string path = Path.Combine(Path.GetFullPath(folder, repositoryRoot), ConfigFileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (string key in new[] { "hidden_size", "n_embd" })
                if (doc.RootElement.TryGetProperty(key, out var width) && width.TryGetInt32(out int value) && value > 0) return value;
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses a manifest dtype string ("float32" or "bfloat16").</summary>
    public static ScalarType ParseDtype(string dtype) => dtype switch
    {
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        _ => throw new InvalidInputException($"compute dtype '{dtype}' is not supported; use float32 or bfloat16"),
    };

    public static JsonDocument ReadConfig(string folder)
    {
        string path = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(path))
            throw new InvalidInputException($"checkpoint folder '{folder}' has no {ConfigFileName}; expected a Hugging Face checkpoint folder");
        try
        {
            var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            throw new InvalidInputException($"'{path}' must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"'{path}' is not valid JSON: {e.Message}");
        }
    }
}
