// Unpacks npm tarballs (gzip + tar, every entry under "package/") with System.Formats.Tar; no external tar.

using System.Formats.Tar;
using System.IO.Compression;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

/// <summary>Extracts the regular files of an npm .tgz into a folder, dropping npm's leading "package/" folder.</summary>
public static class TarGzArchive
{
    /// <summary>Writes every regular file of the tarball below <paramref name="destination"/>; returns their relative paths.</summary>
    public static IReadOnlyList<string> ExtractNpmPackage(string tarballPath, string destination)
    {
        Directory.CreateDirectory(destination);
        string root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        var written = new List<string>();
        using var file = File.OpenRead(tarballPath);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            string name = entry.Name.Replace('\\', '/');
            int slash = name.IndexOf('/');
            string relative = slash >= 0 ? name[(slash + 1)..] : name;
            if (relative.Length == 0) continue;
            string target = Path.GetFullPath(Path.Combine(root, relative));
            // A crafted tarball could name "../x" or an absolute path; nothing may land outside the destination.
            if (!target.StartsWith(root, StringComparison.Ordinal))
                throw new InvalidInputException($"{tarballPath}: entry '{entry.Name}' points outside the extraction folder; refusing to unpack it.");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None))
                entry.DataStream?.CopyTo(output);
            written.Add(relative);
        }
        return written;
    }
}
