using TemporalSae.Infrastructure;

namespace TemporalSae.Manifests;

// Profiles (experiments/profiles/NAME.yaml): a mapping merged over the fully resolved manifest, with the same rules as
// `extends`, before any --set override. The smoke profile runs an experiment's whole graph at tiny sizes for the
// snapshot tests. A profile is neither a base nor a run: it lives in its own folder, so nothing that lists runs sees it,
// and it may not say `extends` or `name`, which belong to the manifest it is applied to.

public static class ManifestProfiles
{
    public const string FolderName = "profiles";

    /// <summary>
    /// The profile file for <paramref name="profile"/>: a path when it names a .yaml/.yml file, else the name of a
    /// profile in the `profiles` folder beside the manifest (experiments/profiles/NAME.yaml).
    /// </summary>
    public static string PathOf(string manifestPath, string profile)
    {
        if (profile.EndsWith(".yaml", StringComparison.Ordinal) || profile.EndsWith(".yml", StringComparison.Ordinal))
            return Path.GetFullPath(profile);
        string folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!, FolderName);
        string path = Path.Combine(folder, profile + ".yaml");
        if (File.Exists(path)) return path;
        var available = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList()
            : [];
        throw new InvalidInputException($"--profile {profile}: no profile {path}." +
                                        (available.Count > 0 ? $"\n  Available: {string.Join(", ", available)}." : $"\n  Profiles live in {FolderName}/ beside the manifest, e.g. experiments/{FolderName}/smoke.yaml."));
    }

    /// <summary>The resolved manifest tree with the profile's mappings merged over it.</summary>
    internal static MappingNode Apply(MappingNode resolved, string profilePath, string source)
    {
        string text;
        try { text = File.ReadAllText(profilePath); }
        catch (IOException e) { throw new InvalidInputException($"{source}: cannot be read ({e.Message})."); }
        catch (UnauthorizedAccessException e) { throw new InvalidInputException($"{source}: cannot be read ({e.Message})."); }

        MappingNode profile = YamlManifestReader.ReadDocument(text, source);
        foreach (string key in new[] { ManifestLoader.ExtendsKey, "name" })
            if (profile.FindKey(key) is { } found)
                throw ManifestErrors.At(found.Location, $"`{key}` is set in a profile.",
                    "A profile only changes sizes and budgets of the manifest it is applied to; remove the key.");
        return ManifestMerge.Merge(resolved, profile);
    }
}
