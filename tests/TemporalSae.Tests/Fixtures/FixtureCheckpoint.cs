// Reads the committed test checkpoints (Hugging Face layout, written by make_reference.py): config.json, one
// model.safetensors or shards listed in model.safetensors.index.json, and reference.safetensors. A deliberately small
// safetensors reader (F32, BF16, F16, I64) so that model tests do not depend on the library's own loader.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Fixtures;

/// <summary>A checkpoint folder's config text and HF-named tensors (float32, or bfloat16 as stored).</summary>
internal sealed class FixtureCheckpoint : IDisposable
{
    FixtureCheckpoint(string folder, string configJson, Dictionary<string, Tensor> weights)
    {
        Folder = folder;
        ConfigJson = configJson;
        Weights = weights;
    }

    public string Folder { get; }
    public string ConfigJson { get; }
    public IReadOnlyDictionary<string, Tensor> Weights { get; }

    /// <summary>tests/TemporalSae.Tests/Fixtures, found by walking up from the test binaries.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "Fixtures");
                if (File.Exists(Path.Combine(candidate, "make_reference.py"))) return candidate;
            }

            throw new DirectoryNotFoundException($"No Fixtures/make_reference.py above {AppContext.BaseDirectory}.");
        }
    }

    public static FixtureCheckpoint Open(string name)
    {
        string folder = Path.Combine(Root, name);
        string config = File.ReadAllText(Path.Combine(folder, "config.json"));
        string index = Path.Combine(folder, "model.safetensors.index.json");
        Dictionary<string, Tensor> weights;
        if (File.Exists(index))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(index));
            weights = new Dictionary<string, Tensor>();
            var files = doc.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct();
            foreach (string file in files)
                foreach ((string key, Tensor t) in ReadSafetensors(Path.Combine(folder, file)))
                    weights.Add(key, t);
        }
        else
        {
            weights = ReadSafetensors(Path.Combine(folder, "model.safetensors"));
        }

        return new FixtureCheckpoint(folder, config, weights);
    }

    /// <summary>input_ids, resid_post.{L} and logits from the folder's reference.safetensors.</summary>
    public Dictionary<string, Tensor> ReadReference() => ReadSafetensors(Path.Combine(Folder, "reference.safetensors"));

    public static Dictionary<string, Tensor> ReadSafetensors(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        int dataStart = checked(8 + (int)headerLength);
        using JsonDocument header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var tensors = new Dictionary<string, Tensor>();
        foreach (JsonProperty entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            ReadOnlySpan<byte> data = bytes.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0]));
            tensors[entry.Name] = dtype switch
            {
                "F32" => tensor(Floats(data, 4, (s, i) => BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..])), shape),
                // bf16 is the top half of a float32, so widening is exact and narrowing back restores the stored value.
                "BF16" => tensor(Floats(data, 2, (s, i) => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]) << 16)), shape)
                    .to(ScalarType.BFloat16),
                "F16" => tensor(Floats(data, 2, (s, i) => (float)BinaryPrimitives.ReadHalfLittleEndian(s[(2 * i)..])), shape)
                    .to(ScalarType.Float16),
                "I64" => tensor(Enumerable.Range(0, data.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(dataStart + (int)offsets[0] + 8 * i))).ToArray(), shape),
                _ => throw new NotSupportedException($"{path}: {entry.Name} has dtype {dtype}, which the fixture reader does not read."),
            };
        }

        return tensors;
    }

    delegate float ElementReader(ReadOnlySpan<byte> data, int index);

    static float[] Floats(ReadOnlySpan<byte> data, int width, ElementReader read)
    {
        var values = new float[data.Length / width];
        for (int i = 0; i < values.Length; i++) values[i] = read(data, i);
        return values;
    }

    public void Dispose()
    {
        foreach (Tensor t in Weights.Values) t.Dispose();
    }
}
