using System.Reflection;
using TorchSharp;

namespace TemporalSae.Infrastructure;

/// <summary>Where tensors live and how many threads compute them; the one place that configures LibTorch.</summary>
public static class TorchRuntime
{
    // Before any tensor is made: LibTorch's CPU allocator does not cache, so every tensor above glibc's mmap threshold
    // (128 KiB) is a fresh mmap whose pages the kernel faults in and zeroes, then munmap'd when freed. A training step
    // frees and re-allocates the same large buffers every step; that page-fault traffic made the built-in model's
    // training 2.2x slower. Serving them from the heap and keeping freed memory for reuse removes it.
    static TorchRuntime() => ProcessMemory.KeepFreedMemoryForReuse();

    /// <summary>CUDA when LibTorch reports a usable device, else CPU. Decided at run time, never assumed.</summary>
    public static torch.Device Device => torch.cuda.is_available() ? torch.CUDA : torch.CPU;

    public static string DeviceName => torch.cuda.is_available() ? "cuda" : "cpu";

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The LibTorch version the native library reports, e.g. "2.10.0".</summary>
    public static string LibTorchVersion => torch.__version__;

    public static string ToolVersion =>
        typeof(TorchRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>Fixes the intra-op thread count; results are bitwise reproducible only for a fixed count.</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "threads must be at least 1");
        torch.set_num_threads(threads);
    }
}
