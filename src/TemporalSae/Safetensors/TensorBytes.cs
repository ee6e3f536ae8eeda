// Copies between a contiguous CPU tensor's storage and raw little-endian bytes (the safetensors payload), in chunks
// because TorchSharp exposes tensor memory as a Span<byte>, whose length is limited to int.
using static TorchSharp.torch;

namespace TemporalSae.Safetensors;

static class TensorBytes
{
    const long ChunkBytes = 1L << 30;

    /// <summary>Fills <paramref name="target"/> (contiguous, CPU) from <paramref name="source"/>.</summary>
    public static unsafe void CopyInto(Tensor target, byte* source, long byteCount)
    {
        long elementBytes = target.ElementSize;
        long perChunk = Math.Max(1, ChunkBytes / elementBytes);
        using var flat = target.view(-1);
        long n = flat.shape[0];
        for (long start = 0; start < n; start += perChunk)
        {
            long count = Math.Min(perChunk, n - start);
            using var slice = flat.narrow(0, start, count);
            var span = slice.bytes;
            new ReadOnlySpan<byte>(source + start * elementBytes, checked((int)(count * elementBytes))).CopyTo(span);
        }
        if (n * elementBytes != byteCount)
            throw new ArgumentException($"byte count {byteCount} does not match {n} elements of {elementBytes} bytes");
    }

    /// <summary>Writes the storage of <paramref name="tensor"/> (contiguous, CPU) to <paramref name="stream"/>.</summary>
    public static void WriteTo(Tensor tensor, Stream stream)
    {
        long elementBytes = tensor.ElementSize;
        long perChunk = Math.Max(1, ChunkBytes / elementBytes);
        using var flat = tensor.view(-1);
        long n = flat.shape[0];
        for (long start = 0; start < n; start += perChunk)
        {
            long count = Math.Min(perChunk, n - start);
            using var slice = flat.narrow(0, start, count);
            stream.Write(slice.bytes);
        }
    }
}
