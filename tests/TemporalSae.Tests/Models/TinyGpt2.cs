// Tiny random GPT-2 checkpoints written in Hugging Face layout, in the variants real checkpoints come in.
using TemporalSae.Models;
using TemporalSae.Safetensors;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models;

static class TinyGpt2
{
    public static Gpt2Config Config(int layers = 3) => new()
    {
        VocabSize = 50,
        NPositions = 16,
        NEmbd = 32,
        NLayer = layers,
        NHead = 4,
    };

    /// <summary>HF tensors of a model: optionally with GPT2LMHeadModel's prefix, in a storage dtype.</summary>
    public static Dictionary<string, Tensor> Tensors(Gpt2Model model, bool prefix, ScalarType storage = ScalarType.Float32) =>
        model.named_parameters().ToDictionary(
            p => (prefix ? "transformer." : "") + p.name,
            p => p.parameter.detach().to_type(storage));

    /// <summary>Writes config.json and the weights, as one file or split over <paramref name="shards"/> files.</summary>
    public static void Write(string folder, Gpt2Model model, bool prefix = true, ScalarType storage = ScalarType.Float32, int shards = 1,
        Action<Dictionary<string, Tensor>>? edit = null)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), model.Config.ToJson());
        var tensors = Tensors(model, prefix, storage);
        edit?.Invoke(tensors);
        if (shards == 1)
        {
            SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors);
            return;
        }
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var map = new List<(string, string)>();
        for (int s = 0; s < shards; s++)
        {
            string shard = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = names.Where((_, i) => i % shards == s).ToDictionary(n => n, n => tensors[n]);
            SafetensorsWriter.Write(Path.Combine(folder, shard), part);
            map.AddRange(part.Keys.Select(n => (n, shard)));
        }
        var entries = string.Join(",\n", map.Select(m => $"    \"{m.Item1}\": \"{m.Item2}\""));
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            $"{{\n  \"metadata\": {{}},\n  \"weight_map\": {{\n{entries}\n  }}\n}}\n");
    }

    public static Tensor Ids(long seed, int batch = 2, int length = 12, int vocab = 50)
    {
        using var g = new Generator((ulong)seed, CPU);
        return randint(0, vocab, [batch, length], generator: g, dtype: ScalarType.Int64);
    }
}
