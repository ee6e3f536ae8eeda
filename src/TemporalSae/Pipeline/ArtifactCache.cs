using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Results;

namespace TemporalSae.Pipeline;

/// <summary>
/// Content-addressed store of stage artifacts: &lt;root&gt;/&lt;stage&gt;/&lt;key&gt;/, where the key hashes everything that
/// determines the artifact. An artifact folder is built under a temporary name and published by one directory
/// rename, so readers (and a second run on the same cache) see either nothing or the complete artifact.
/// Each artifact carries artifact.json listing every file with its size and XxHash128; every read verifies them,
/// and a damaged artifact is reported, moved aside and rebuilt, never used.
/// </summary>
public sealed class ArtifactCache(string root, TextWriter log)
{
    public const string ManifestFile = "artifact.json";
    public const string EnvironmentVariable = "TSAE_CACHE";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The cache folder: $TSAE_CACHE when set, else .cache/ in the repository.</summary>
    public static string DefaultRoot(string repositoryRoot) =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnv
            ? fromEnv
            : Path.Combine(repositoryRoot, ".cache");

    public string FolderFor(string stage, string key) => Path.Combine(Root, stage, key);

    /// <summary>
    /// Returns the verified artifact folder for (stage, key), building it with <paramref name="build"/> when it is
    /// missing or damaged. <paramref name="build"/> writes files into the folder it is given.
    /// </summary>
    public CachedArtifact GetOrBuild(string stage, string key, Action<string> build)
    {
        string folder = FolderFor(stage, key);
        if (Directory.Exists(folder))
        {
            string? problem = Verify(folder);
            if (problem is null) return new CachedArtifact(folder, FromCache: true);
            log.WriteLine($"cache: {stage}/{key[..12]} is damaged ({problem}); rebuilding it");
            MoveAside(folder);
        }

        string temp = AtomicFile.TempPathFor(folder);
        Directory.CreateDirectory(temp);
        try
        {
            build(temp);
            WriteManifest(temp, stage, key);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            try
            {
                Directory.Move(temp, folder);
            }
            catch (IOException) when (Directory.Exists(folder) && Verify(folder) is null)
            {
                // Another run published the same artifact first; its content is equivalent, keep it.
                Directory.Delete(temp, recursive: true);
            }
            return new CachedArtifact(folder, FromCache: false);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Null when every file listed in the artifact's manifest is present with its size and hash.</summary>
    public static string? Verify(string folder)
    {
        string manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath)) return $"{ManifestFile} is missing";
        JsonObject manifest;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        }
        catch (JsonException e)
        {
            return $"{ManifestFile} is not valid JSON ({e.Message})";
        }
        foreach (var (name, entry) in manifest["files"]!.AsObject())
        {
            string path = Path.Combine(folder, name);
            if (!File.Exists(path)) return $"{name} is missing";
            long size = entry!["size"]!.GetValue<long>();
            long actualSize = new FileInfo(path).Length;
            if (actualSize != size) return $"{name} has {actualSize} bytes, expected {size}";
            string hash = HashFile(path);
            if (hash != entry["xxh128"]!.GetValue<string>()) return $"{name} has checksum {hash}, expected {entry["xxh128"]}";
        }
        return null;
    }

    static void WriteManifest(string folder, string stage, string key)
    {
        var files = new JsonObject();
        foreach (string path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = Path.GetRelativePath(folder, path).Replace('\\', '/');
            files[name] = new JsonObject { ["size"] = new FileInfo(path).Length, ["xxh128"] = HashFile(path) };
        }
        var manifest = new JsonObject { ["stage"] = stage, ["key"] = key, ["files"] = files };
        AtomicFile.WriteAllText(Path.Combine(folder, ManifestFile), ResultJson.Serialize(manifest));
    }

    static string HashFile(string path)
    {
        var hash = new XxHash128();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        hash.Append(stream);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    static void MoveAside(string folder)
    {
        string aside = $"{folder}.damaged-{Guid.NewGuid():N}";
        try
        {
            Directory.Move(folder, aside);
            Directory.Delete(aside, recursive: true);
        }
        catch (IOException)
        {
            // Another run moved it first.
        }
    }
}

/// <summary>A verified artifact folder, and whether it was reused rather than built now.</summary>
public sealed record CachedArtifact(string Folder, bool FromCache);
