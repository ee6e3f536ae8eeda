namespace TemporalSae.Infrastructure;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status, with the high-water mark reset through
/// /proc/self/clear_refs ("5", Linux >= 4.0). Native LibTorch memory is invisible to the .NET GC, so RSS is the honest
/// measure of what the process holds; freed memory is kept for reuse (<see cref="KeepFreedMemoryForReuse"/>), so what a
/// piece of work needs is measured from glibc's count of live allocations instead (<see cref="MeasurePeakAbove"/>).
/// Elsewhere the GC's view of the working set is the fallback.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Whether this platform lets the process reset and read its peak resident memory.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Current resident set size in bytes.</summary>
    public static long CurrentRssBytes() => ReadStatusKb("VmRSS:") * 1024 ?? Environment.WorkingSet;

    /// <summary>
    /// Starts measuring the peak resident size from now. Windows nest: Linux keeps one high-water mark per process, so
    /// opening a window resets it, and the mark reached before the reset is kept for the windows already open.
    /// </summary>
    public static PeakWindow OpenPeakWindow()
    {
        lock (CutPeaks)
        {
            CutPeaks.Add(ReadStatusKb("VmHWM:") * 1024 ?? 0);
            try { File.WriteAllText("/proc/self/clear_refs", "5"); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return new PeakWindow(CutPeaks.Count);
        }
    }

    /// <summary>Peak resident set size in bytes since <paramref name="window"/> opened.</summary>
    public static long PeakRssBytes(PeakWindow window)
    {
        long peak = ReadStatusKb("VmHWM:") * 1024 ?? Environment.WorkingSet;
        lock (CutPeaks)
            for (int i = window.ResetsBefore; i < CutPeaks.Count; i++) peak = Math.Max(peak, CutPeaks[i]);
        return peak;
    }

    /// <summary>High-water marks cut by <see cref="OpenPeakWindow"/>, in order.</summary>
    static readonly List<long> CutPeaks = [];

    /// <summary>
    /// Peak bytes of live native allocations above those live at the start, while <paramref name="action"/> runs:
    /// glibc's own count of allocated bytes (mallinfo2), sampled every millisecond on another thread. It counts the
    /// tensors the action holds, not what the heap keeps for reuse, so it does not depend on earlier work; tensors
    /// live for less than a millisecond may be missed. Elsewhere than Linux: the resident-size peak.
    /// </summary>
    public static long MeasurePeakAbove(Action action)
    {
        CollectGarbage();
        if (!OperatingSystem.IsLinux())
        {
            var window = OpenPeakWindow();
            long resident = CurrentRssBytes();
            action();
            return PeakRssBytes(window) - resident;
        }
        long start = LiveNativeBytes(), peak = start;
        bool running = true;
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref running))
            {
                long live = LiveNativeBytes();
                if (live > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, live);
                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "peak memory sampler" };
        sampler.Start();
        try { action(); }
        finally
        {
            Volatile.Write(ref running, false);
            sampler.Join();
        }
        return Math.Max(peak, LiveNativeBytes()) - start;
    }

    /// <summary>Bytes glibc has handed out and not yet had back: heap chunks in use plus mapped chunks.</summary>
    static long LiveNativeBytes()
    {
        MallInfo2 info = MallInfo2Native();
        return (long)(info.Uordblks + info.Hblkhd);
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 MallInfo2Native();

    /// <summary>
    /// Makes glibc serve every allocation from the heap (no per-allocation mmap) and keep freed memory instead of
    /// returning it to the system, so buffers freed by one training step are reused by the next without page faults.
    /// Resident memory then also holds what the heap keeps for reuse (its fragmentation included); what work needs is
    /// measured by <see cref="MeasurePeakAbove"/>, which counts live allocations.
    /// </summary>
    public static void KeepFreedMemoryForReuse()
    {
        if (!OperatingSystem.IsLinux()) return;
        Mallopt(MMmapMax, 0);
        Mallopt(MTrimThreshold, int.MaxValue);
    }

    const int MTrimThreshold = -1, MMmapMax = -4;

    /// <summary>Collects the managed heap, so native memory whose TorchSharp handles wait for finalisers is freed.</summary>
    static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

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

/// <summary>A span of time whose peak resident size <see cref="ProcessMemory.PeakRssBytes"/> reports.</summary>
public readonly record struct PeakWindow(int ResetsBefore);
