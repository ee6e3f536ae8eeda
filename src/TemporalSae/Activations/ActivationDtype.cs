// Storage precision of the activation store: float32, or bfloat16 (half the disk and page-cache footprint).

using TemporalSae.Infrastructure;

namespace TemporalSae.Activations;

public enum ActivationDtype
{
    Float32,
    BFloat16,
}

/// <summary>Names (as in the manifest's activations.dtype), element sizes and float conversions.</summary>
public static class ActivationDtypes
{
    public static ActivationDtype Parse(string name) => name switch
    {
        "float32" => ActivationDtype.Float32,
        "bfloat16" => ActivationDtype.BFloat16,
        _ => throw new InvalidInputException($"activation dtype '{name}' is not known; use float32 or bfloat16."),
    };

    public static string Name(this ActivationDtype dtype) => dtype == ActivationDtype.Float32 ? "float32" : "bfloat16";

    public static int ElementSize(this ActivationDtype dtype) => dtype == ActivationDtype.Float32 ? 4 : 2;

    /// <summary>bfloat16 is the top half of a float32; round to nearest even as torch's .to(bfloat16) does, NaN kept quiet.</summary>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(source[i]);
            if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
            {
                destination[i] = (ushort)((bits >> 16) | 0x0040);
                continue;
            }
            uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
            destination[i] = (ushort)((bits + roundingBias) >> 16);
        }
    }

    public static void FromBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = BitConverter.UInt32BitsToSingle((uint)source[i] << 16);
    }
}
