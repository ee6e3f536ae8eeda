// Where downloaded and derived data is cached: $TSAE_CACHE, else .cache/ at the repository root.

namespace TemporalSae.Data;

public static class CacheFolder
{
    public const string EnvironmentVariable = "TSAE_CACHE";

    /// <summary>
    /// $TSAE_CACHE when set; else `.cache` beside the nearest TemporalSae.sln found by walking up from the current
    /// directory; else `.cache` in the current directory.
    /// </summary>
    public static string Default()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "TemporalSae.sln")))
                return Path.Combine(directory.FullName, ".cache");
        return Path.Combine(Directory.GetCurrentDirectory(), ".cache");
    }
}
