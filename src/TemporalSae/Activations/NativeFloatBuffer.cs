// A float buffer outside the GC heap, freed deterministically: readers reuse it for an epoch and release it when
// the enumeration ends, instead of leaving tens of MiB of large-object garbage for an eventual gen-2 collection.

using System.Runtime.InteropServices;

namespace TemporalSae.Activations;

internal sealed unsafe class NativeFloatBuffer : IDisposable
{
    float* pointer;

    public NativeFloatBuffer(long length)
    {
        Length = length;
        pointer = (float*)NativeMemory.Alloc((nuint)Math.Max(1, length), sizeof(float));
    }

    public long Length { get; }

    public Span<float> Slice(long start, int length)
    {
        ObjectDisposedException.ThrowIf(pointer is null, this);
        if (start < 0 || length < 0 || start + length > Length) throw new ArgumentOutOfRangeException(nameof(start));
        return new Span<float>(pointer + start, length);
    }

    public void Dispose()
    {
        if (pointer is null) return;
        NativeMemory.Free(pointer);
        pointer = null;
    }
}
