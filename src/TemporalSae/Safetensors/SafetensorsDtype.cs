// The safetensors dtype strings this project reads and writes, and their TorchSharp scalar types
// (huggingface/safetensors, "Format": F32, F16, BF16 for weights and activations; I64 / I32 for token ids).
using static TorchSharp.torch;

namespace TemporalSae.Safetensors;

public static class SafetensorsDtype
{
    static readonly (string Name, ScalarType Type, int Bytes)[] Known =
    [
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
    ];

    public static IReadOnlyList<string> Names { get; } = Known.Select(k => k.Name).ToArray();

    public static bool TryParse(string name, out ScalarType type, out int elementBytes)
    {
        foreach (var k in Known)
            if (k.Name == name)
            {
                (type, elementBytes) = (k.Type, k.Bytes);
                return true;
            }
        (type, elementBytes) = (default, 0);
        return false;
    }

    /// <summary>The safetensors name of a scalar type, or null when the format (as supported here) has none.</summary>
    public static string? NameOf(ScalarType type)
    {
        foreach (var k in Known)
            if (k.Type == type) return k.Name;
        return null;
    }

    public static int ElementBytes(ScalarType type)
    {
        foreach (var k in Known)
            if (k.Type == type) return k.Bytes;
        throw new ArgumentException($"scalar type {type} has no safetensors dtype here (supported: {string.Join(", ", Names)})");
    }
}
