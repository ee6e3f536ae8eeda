// Peak resident memory of this process, from Linux's /proc/self/status (VmHWM) with the high-water mark reset
// through /proc/self/clear_refs ("5", Linux >= 4.0). LibTorch's CPU allocator does not cache, and tensors above
// glibc's mmap threshold (at most 32 MiB) go back to the system when freed, so for large tensors the resident
// high-water mark follows the live tensor bytes. Small tensors may be served from memory the process already holds
// and are under-counted; measure with realistic shapes.
namespace TemporalSae.Saes.Temporal;

public static class PeakMemory
{
    /// <summary>Whether this platform lets the process reset and read its peak resident memory.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Resets the high-water mark to the current resident size.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>Peak resident bytes since the last <see cref="ResetPeak"/> (or process start).</summary>
    public static long PeakBytes() => StatusBytes("VmHWM:");

    /// <summary>Current resident bytes.</summary>
    public static long ResidentBytes() => StatusBytes("VmRSS:");

    /// <summary>Peak resident bytes above the resident size at the start, while <paramref name="action"/> runs.</summary>
    public static long MeasureAbove(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        ResetPeak();
        long before = ResidentBytes();
        action();
        return PeakBytes() - before;
    }

    static long StatusBytes(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException($"/proc/self/status has no {key} line.");
    }
}
