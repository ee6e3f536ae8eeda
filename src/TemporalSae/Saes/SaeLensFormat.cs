// Export and import of SAEs in SAELens' folder layout: cfg.json (SAELens field names) and sae_weights.safetensors
// (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec, plus architecture-specific tensors such as the temporal
// kernel c_temporal or BatchTopK's threshold). cfg.json also carries this project's own `sae` section, so that an
// exported temporal SAE imports back exactly; a folder written by SAELens for a standard or TopK SAE imports too.
using System.Text.Json;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Safetensors;
using TemporalSae.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

/// <summary>What SAELens records about where an SAE reads its activations.</summary>
public sealed record SaeLensMetadata(string ModelName, string HookName, int HookLayer, int ContextSize);

public static class SaeLensFormat
{
    public const string ConfigFile = "cfg.json";
    public const string WeightsFile = "sae_weights.safetensors";
    const string OwnSection = "temporalsae";

    static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Export(SparseAutoencoder sae, SaeArchitecture architecture, SaeConfig config, SaeLensMetadata metadata, string folder)
    {
        Directory.CreateDirectory(folder);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in sae.named_parameters()) tensors[name] = parameter.detach();
        foreach (var (name, buffer) in sae.named_buffers()) tensors[name] = buffer;
        SafetensorsWriter.Write(Path.Combine(folder, WeightsFile), tensors);

        SaeLensActivation saeLens = architecture.SaeLens(config);
        var cfg = new JsonObject
        {
            ["architecture"] = saeLens.Architecture,
            ["d_in"] = sae.DIn,
            ["d_sae"] = sae.DSae,
            ["dtype"] = "float32",
            ["device"] = "cpu",
            ["model_name"] = metadata.ModelName,
            ["hook_name"] = metadata.HookName,
            ["hook_layer"] = metadata.HookLayer,
            ["hook_head_index"] = null,
            ["activation_fn_str"] = saeLens.ActivationFn,
            ["activation_fn_kwargs"] = saeLens.Kwargs,
            ["apply_b_dec_to_input"] = true,
            ["finetuning_scaling_factor"] = false,
            ["normalize_activations"] = "none",   // any training-time scale is folded into the weights
            ["context_size"] = metadata.ContextSize,
            ["prepend_bos"] = true,
            ["dataset_path"] = "brown-corpus",
            ["sae_lens_training_version"] = null,
            ["neuronpedia_id"] = null,
            [OwnSection] = JsonSerializer.SerializeToNode(config, SnakeCase),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFile), ResultJson.Serialize(cfg));
    }

    public static (SparseAutoencoder Sae, SaeConfig Config) Import(string folder, SaeRegistry architectures)
    {
        string cfgPath = Path.Combine(folder, ConfigFile);
        string weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(cfgPath) || !File.Exists(weightsPath))
            throw new InvalidInputException($"{folder} is not an SAELens SAE folder: it needs {ConfigFile} and {WeightsFile}");
        JsonObject cfg = JsonNode.Parse(File.ReadAllText(cfgPath))?.AsObject()
                         ?? throw new InvalidInputException($"{cfgPath} is not a JSON object");
        SaeConfig config = cfg[OwnSection] is JsonObject own
            ? own.Deserialize<SaeConfig>(SnakeCase) ?? throw new InvalidInputException($"{cfgPath}: `{OwnSection}` is empty")
            : architectures.FromSaeLens(cfg, cfgPath);
        int dIn = cfg["d_in"]?.GetValue<int>() ?? throw new InvalidInputException($"{cfgPath} has no d_in");
        int contextSize = cfg["context_size"]?.GetValue<int>() ?? throw new InvalidInputException($"{cfgPath} has no context_size");
        // The same rules a manifest meets, so that a hand-edited cfg.json is refused with a message rather than a crash.
        var at = new ManifestLocations(new SourceLocation(cfgPath, 1, 1));
        architectures[config.Architecture].Validate(
            new ExperimentConfig { Sae = config, Data = new DataConfig { ContextSize = contextSize } }, at);

        SparseAutoencoder sae = architectures.Create(config, dIn, seed: 0);
        using var weights = SafetensorsFile.Open(weightsPath);
        var problems = new List<string>();
        using (torch.no_grad())
        {
            foreach (var (name, target) in sae.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(sae.named_buffers()))
            {
                if (!weights.Names.Contains(name))
                {
                    problems.Add($"{name} is missing");
                    continue;
                }
                using Tensor saved = weights.Load(name, ScalarType.Float32);
                if (!saved.shape.SequenceEqual(target.shape))
                    problems.Add($"{name} has shape [{string.Join(", ", saved.shape)}], expected [{string.Join(", ", target.shape)}]");
                else
                    target.copy_(saved);
            }
        }
        if (problems.Count > 0)
            throw new InvalidInputException($"{weightsPath} does not fit a {config.Architecture} SAE with d_in {dIn}, d_sae {config.DSae}:\n  " + string.Join("\n  ", problems));
        return (sae, config);
    }

    /// <summary>d_sae of an SAELens cfg.json.</summary>
    public static int DSaeOf(JsonObject cfg, string cfgPath) =>
        cfg["d_sae"]?.GetValue<int>() ?? throw new InvalidInputException($"{cfgPath} has no d_sae");
}
