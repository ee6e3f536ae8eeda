namespace TemporalSae.Infrastructure;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status, with the high-water mark reset through
/// /proc/self/clear_refs ("5", Linux >= 4.0). Native LibTorch memory is invisible to the .NET GC, so RSS is the honest
/// measure. Freed memory is kept for reuse (<see cref="KeepFreedMemoryForReuse"/>), so a measurement first hands it
/// back to the system; then the high-water mark follows live tensor bytes.
/// Elsewhere the GC's view of the working set is the fallback.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Whether this platform lets the process reset and read its peak resident memory.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Current resident set size in bytes.</summary>
    public static long CurrentRssBytes() => ReadStatusKb("VmRSS:") * 1024 ?? Environment.WorkingSet;

    /// <summary>Peak resident set size in bytes since start or since the last <see cref="ResetPeak"/>.</summary>
    public static long PeakRssBytes() => ReadStatusKb("VmHWM:") * 1024 ?? Environment.WorkingSet;

    /// <summary>Restarts peak tracking at the current resident size, so a stage or step measures its own peak.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Peak resident bytes above the resident size at the start, while <paramref name="action"/> runs.</summary>
    public static long MeasurePeakAbove(Action action) => MeasurePeakAbove(() => { action(); return 0; }).PeakBytes;

    /// <summary><paramref name="action"/>'s result and its peak resident bytes above the resident size at the start.</summary>
    public static (T Result, long PeakBytes) MeasurePeakAbove<T>(Func<T> action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // Hand memory freed by earlier work back to the system, so that a second measurement in the same process
        // does not reuse it unseen (freed memory is kept for reuse: KeepFreedMemoryForReuse).
        if (OperatingSystem.IsLinux()) MallocTrim(0);
        ResetPeak();
        long before = CurrentRssBytes();
        T result = action();
        return (result, PeakRssBytes() - before);
    }

    /// <summary>
    /// Makes glibc serve every allocation from the heap (no per-allocation mmap) and keep freed memory instead of
    /// returning it to the system, so buffers freed by one training step are reused by the next without page faults.
    /// Peak resident memory is unchanged: it is bounded by the live bytes, as before.
    /// </summary>
    public static void KeepFreedMemoryForReuse()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int MTrimThreshold = -1, MMmapMax = -4;
        Mallopt(MMmapMax, 0);
        Mallopt(MTrimThreshold, int.MaxValue);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    static long? ReadStatusKb(string field)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length).Trim().ToString().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }
}
