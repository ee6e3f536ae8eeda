// A Hugging Face checkpoint's weights: either one model.safetensors, or shards listed by model.safetensors.index.json
// ({"metadata": {...}, "weight_map": {tensor name: shard file name}}), as transformers' save_pretrained writes them.
using System.Text.Json;
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Safetensors;

public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    readonly Dictionary<string, SafetensorsFile> fileOf;
    readonly List<SafetensorsFile> files;

    public string Folder { get; }

    /// <summary>All tensor names, sorted.</summary>
    public IReadOnlyList<string> Names { get; }

    SafetensorsCheckpoint(string folder, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf)
    {
        Folder = folder;
        this.files = files;
        this.fileOf = fileOf;
        Names = fileOf.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
    }

    public static SafetensorsCheckpoint Open(string folder)
    {
        if (!Directory.Exists(folder))
            throw new InvalidInputException($"checkpoint folder '{folder}' does not exist");
        string single = System.IO.Path.Combine(folder, SingleFileName);
        string index = System.IO.Path.Combine(folder, IndexFileName);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            return new SafetensorsCheckpoint(folder, [file], file.Names.ToDictionary(n => n, _ => file));
        }
        if (File.Exists(index))
            return OpenSharded(folder, index);
        throw new InvalidInputException(
            $"checkpoint folder '{folder}' has neither {SingleFileName} nor {IndexFileName}; expected a Hugging Face checkpoint in safetensors format");
    }

    static SafetensorsCheckpoint OpenSharded(string folder, string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var files = new List<SafetensorsFile>();
        var fileOf = new Dictionary<string, SafetensorsFile>();
        try
        {
            var problems = new List<string>();
            foreach (var shardName in weightMap.Values.Distinct().OrderBy(s => s, StringComparer.Ordinal))
            {
                string shardPath = System.IO.Path.Combine(folder, shardName);
                if (!File.Exists(shardPath))
                {
                    problems.Add($"shard '{shardName}' is listed but missing");
                    continue;
                }
                var shard = SafetensorsFile.Open(shardPath);
                files.Add(shard);
                foreach (var (tensor, listedShard) in weightMap)
                {
                    if (listedShard != shardName) continue;
                    if (shard.Contains(tensor)) fileOf[tensor] = shard;
                    else problems.Add($"tensor '{tensor}' is mapped to '{shardName}', which does not hold it");
                }
            }
            if (problems.Count > 0)
                throw new InvalidInputException($"sharded checkpoint '{indexPath}': {string.Join("; ", problems)}");
            return new SafetensorsCheckpoint(folder, files, fileOf);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"'{indexPath}' must be a JSON object with a \"weight_map\" object (tensor name -> shard file)");
            var result = new Dictionary<string, string>();
            foreach (var p in map.EnumerateObject())
            {
                string? shard = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                if (string.IsNullOrEmpty(shard) || shard.Contains('/') || shard.Contains('\\') || shard.Contains(".."))
                    throw new InvalidInputException($"'{indexPath}': weight_map entry '{p.Name}' must name a shard file in the same folder");
                result[p.Name] = shard;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"'{indexPath}' is not valid JSON: {e.Message}");
        }
    }

    public bool Contains(string name) => fileOf.ContainsKey(name);

    public SafetensorsEntry Entry(string name) => FileOf(name).Entry(name);

    public Tensor Load(string name, ScalarType? @as = null) => FileOf(name).Load(name, @as);

    /// <summary>Every tensor by name (sorted), converted to <paramref name="as"/> if given; the caller owns them.</summary>
    public IReadOnlyDictionary<string, Tensor> LoadAll(ScalarType? @as = null)
    {
        var result = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in Names) result[name] = Load(name, @as);
        return result;
    }

    SafetensorsFile FileOf(string name) =>
        fileOf.TryGetValue(name, out var file)
            ? file
            : throw new InvalidInputException($"checkpoint '{Folder}' has no tensor '{name}'");

    public void Dispose()
    {
        foreach (var f in files) f.Dispose();
    }
}
