namespace TemporalSae.Infrastructure;

/// <summary>
/// Resident memory of this process as Linux reports it (/proc/self/status). Native LibTorch memory is invisible to
/// the .NET GC, so RSS is the honest measure. Elsewhere the GC's view of the working set is the fallback.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Current resident set size in bytes.</summary>
    public static long CurrentRssBytes() => ReadStatusKb("VmRSS:") * 1024 ?? Environment.WorkingSet;

    /// <summary>Peak resident set size in bytes since start or since the last <see cref="ResetPeak"/>.</summary>
    public static long PeakRssBytes() => ReadStatusKb("VmHWM:") * 1024 ?? Environment.WorkingSet;

    /// <summary>Restarts peak tracking (Linux: writing 5 to clear_refs resets VmHWM), so a stage measures its own peak.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static long? ReadStatusKb(string field)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length).Trim().ToString().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }
}
