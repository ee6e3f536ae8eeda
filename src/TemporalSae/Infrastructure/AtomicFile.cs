using System.Text;

namespace TemporalSae.Infrastructure;

/// <summary>
/// Writes files so that readers see either the old content or the complete new one, never a partial file:
/// write to a unique temporary file in the same folder, flush to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>UTF-8 without BOM, LF line endings as given.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Streams content through <paramref name="write"/> into a temp file, then publishes it.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = TempPathFor(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>A temp name beside <paramref name="fullPath"/>: same file system, so the final rename is atomic.</summary>
    public static string TempPathFor(string fullPath) =>
        $"{fullPath}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
