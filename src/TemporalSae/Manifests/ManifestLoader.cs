using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Saes;

namespace TemporalSae.Manifests;

// Loads an experiment manifest: reads the file and the chain of bases it extends, merges them, merges a profile over
// them when one is given (ManifestProfiles), applies --set overrides, binds the result strictly into ExperimentConfig, checks the cross-key rules, and returns the resolved
// config with its canonical text and hash. Manifests live in experiments/; files whose name starts with `_` are bases.

/// <summary>A validated manifest: the resolved config, its canonical YAML and the hash of what it computes.</summary>
/// <param name="Path">Full path of the manifest file.</param>
/// <param name="Files">The manifest followed by the bases it extends, nearest first (full paths).</param>
/// <param name="Locations">Where each resolved key was written, for errors found by later stages.</param>
/// <param name="SaeMemory">The sae stage's memory estimate; null without an sae stage or when d_in is known only once the checkpoint is read.</param>
public sealed record LoadedManifest(
    string Path,
    ExperimentConfig Config,
    string CanonicalYaml,
    string ManifestHash,
    IReadOnlyList<string> Files,
    ManifestLocations Locations,
    SaeMemoryEstimate? SaeMemory)
{
    /// <summary>The resolved config as an ordered JSON object (a new object per call) for result documents.</summary>
    public JsonObject CanonicalJson() => CanonicalManifest.ToJson(Config);
}

public static class ManifestLoader
{
    public const string ExtendsKey = "extends";
    static readonly string[] Extensions = [".yaml", ".yml"];

    /// <param name="profilePath">A profile file (ManifestProfiles.PathOf) merged over the resolved manifest, or null.</param>
    /// <param name="architectures">The SAE architectures `sae.architecture` may name (default: SaeRegistry.Default).</param>
    public static LoadedManifest Load(string path, IReadOnlyList<string>? overrides = null, string? profilePath = null,
        SaeRegistry? architectures = null)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new InvalidInputException($"{Display(full)}: manifest not found.\n  {SuggestFile(full) ?? "Manifests live in experiments/ (tsae validate experiments/*.yaml)."}");

        var files = new List<string>();
        MappingNode merged = Resolve(full, full, extendedAt: null, [], files);
        if (profilePath is not null)
            merged = ManifestProfiles.Apply(merged, profilePath, Display(System.IO.Path.GetFullPath(profilePath)));
        foreach (string text in overrides ?? [])
            merged = ManifestOverrides.Apply(merged, text);

        var locations = new ManifestLocations(new SourceLocation(Display(full), 1, 1));
        var config = ManifestBinder.Bind<ExperimentConfig>(merged, locations, [ExtendsKey]);
        if (merged.FindKey("name") is null)
            config = config with { Name = System.IO.Path.GetFileNameWithoutExtension(full) };
        architectures ??= SaeRegistry.Default;
        // The run's own file and its overrides may not set another architecture's keys; bases and profiles may.
        string own = Display(full);
        ManifestRules.Validate(config, locations, architectures, location => location.IsOverride || location.Source == own);
        // A relative subject_model.path is resolved from the repository root, as the subject_model stage does.
        string repositoryRoot = Pipeline.RunEnvironment.FindRepositoryRoot(System.IO.Path.GetDirectoryName(full)!);
        SaeMemoryEstimate? memory = ManifestRules.CheckSaeMemory(config, locations, architectures, repositoryRoot);

        return new LoadedManifest(full, config, CanonicalManifest.ToYaml(config), CanonicalManifest.Hash(config), files, locations, memory);
    }

    /// <summary>Run names in <paramref name="experimentsDir"/> (file names without extension), bases excluded, sorted.</summary>
    public static IReadOnlyList<string> ListExperiments(string experimentsDir)
    {
        if (!Directory.Exists(experimentsDir))
            throw new InvalidInputException($"{experimentsDir}: experiments folder not found.");
        var names = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(experimentsDir))
        {
            string fileName = System.IO.Path.GetFileName(file);
            if (fileName.StartsWith('_') || !Extensions.Contains(System.IO.Path.GetExtension(file))) continue;
            string name = System.IO.Path.GetFileNameWithoutExtension(file);
            if (!names.TryAdd(name, fileName))
                throw new InvalidInputException(
                    $"{Display(System.IO.Path.GetFullPath(experimentsDir))}: both {names[name]} and {fileName} define the run `{name}`; keep one.");
        }
        return names.Keys.ToList();
    }

    /// <summary>The manifest file of run <paramref name="name"/> in <paramref name="experimentsDir"/>.</summary>
    public static string PathOf(string experimentsDir, string name)
    {
        foreach (string extension in Extensions)
        {
            string candidate = System.IO.Path.Combine(experimentsDir, name + extension);
            if (File.Exists(candidate)) return candidate;
        }
        string? nearest = Directory.Exists(experimentsDir) ? ManifestErrors.Nearest(name, ListExperiments(experimentsDir)) : null;
        throw new InvalidInputException($"no experiment `{name}` in {experimentsDir}." +
                                        (nearest is null ? "" : $"\n  Did you mean `{nearest}`?"));
    }

    /// <summary>The file's tree with its extends chain merged in (and the `extends` key removed).</summary>
    /// <param name="run">The run's own manifest, the first of the chain; its folder holds every base.</param>
    /// <param name="extendedAt">The `extends` value that names this file, when it is a base.</param>
    static MappingNode Resolve(string full, string run, SourceLocation? extendedAt, List<string> chain, List<string> files)
    {
        string source = Display(full);
        MappingNode document;
        try { document = YamlManifestReader.ReadDocument(ReadText(full, source), source); }
        catch (InvalidInputException e) when (extendedAt is not null)
        {
            // The reader is looking at the manifest that pulled the base in, not at the base.
            throw new InvalidInputException($"{e.Message}\n  This base is named by `extends` at {extendedAt}.");
        }
        files.Add(full);
        if (chain.Count > 0 && document.FindKey("name") is { } nameKey)
            throw ManifestErrors.At(nameKey.Location, "`name` is set in a base manifest.",
                $"Every manifest extending it ({Display(chain[^1])}) would get the same name and overwrite the others' results; set `name` in the run's own manifest.");

        if (document.Find(ExtendsKey) is not { } extendsNode) return document;
        if (extendsNode is not ScalarNode { IsNull: false } extends)
            throw ManifestErrors.At(extendsNode.Location, $"`extends` must be the relative path of a base manifest, but it is {extendsNode.Describe()}.",
                "For example: extends: _base.yaml");

        string basePath = BasePath(extends, full, run);
        var cycle = chain.Append(full).ToList();
        if (cycle.Contains(basePath))
            throw ManifestErrors.At(extends.Location, "`extends` makes a cycle.",
                string.Join(" -> ", cycle.SkipWhile(f => f != basePath).Append(basePath).Select(Display)));

        MappingNode parent = Resolve(basePath, run, extends.Location, cycle, files);
        return ManifestMerge.Merge(parent, document.Without(ExtendsKey));
    }

    /// <summary>
    /// The full path of the base that <paramref name="extends"/> names. Only a .yaml or .yml file in the folder of the
    /// run's manifest or below it is read: anything else is refused before it is opened, so no message can quote a
    /// file that is not a manifest.
    /// </summary>
    static string BasePath(ScalarNode extends, string full, string run)
    {
        string root = System.IO.Path.GetDirectoryName(run)!;
        string where = $"A base is a .yaml or .yml file in {Display(root)}, the folder of {Display(run)}, or below it.";
        if (System.IO.Path.IsPathRooted(extends.Value))
            throw ManifestErrors.At(extends.Location, $"`extends` is the absolute path {extends.Value}; it must be relative to the folder of this manifest.",
                where, "For example: extends: _base.yaml");

        string basePath = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, extends.Value));
        if (!IsInside(basePath, root))
            throw ManifestErrors.At(extends.Location, $"`extends` names {Display(basePath)}, which is outside {Display(root)}.",
                where, "Move or copy the base into that folder.");
        if (Directory.Exists(basePath))
            throw ManifestErrors.At(extends.Location, $"`extends` names {Display(basePath)}, which is a folder.",
                "Name the base's file, e.g. extends: _base.yaml");
        if (!Extensions.Contains(System.IO.Path.GetExtension(basePath)))
            throw ManifestErrors.At(extends.Location, $"`extends` names {Display(basePath)}, which is not a manifest.",
                where, "For example: extends: _base.yaml");
        if (!File.Exists(basePath))
            throw ManifestErrors.At(extends.Location, $"`extends` names {Display(basePath)}, which does not exist.",
                SuggestFile(basePath) ?? "The path is relative to the folder of the manifest that extends it.");

        // A symbolic link inside the folder can still lead to any file on the machine.
        string target = RealPath(basePath);
        if (!IsInside(target, RealPath(root)) || !Extensions.Contains(System.IO.Path.GetExtension(target)))
            throw ManifestErrors.At(extends.Location, $"`extends` names {Display(basePath)}, a symbolic link to {target}.",
                where, "Replace the link with a copy of the base.");
        return basePath;
    }

    /// <summary>Whether <paramref name="path"/> lies in <paramref name="folder"/> or below it.</summary>
    public static bool IsInside(string path, string folder)
    {
        string relative = System.IO.Path.GetRelativePath(folder, path);
        return relative != ".." && !relative.StartsWith(".." + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)
                                && !System.IO.Path.IsPathRooted(relative);
    }

    /// <summary>The full path with every symbolic link in it followed.</summary>
    static string RealPath(string full)
    {
        string? parent = System.IO.Path.GetDirectoryName(full);
        if (parent is null) return full;
        string path = System.IO.Path.Combine(RealPath(parent), System.IO.Path.GetFileName(full));
        return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target ? RealPath(target.FullName) : path;
    }

    static string ReadText(string full, string source)
    {
        try { return File.ReadAllText(full); }
        catch (IOException e) { throw new InvalidInputException($"{source}: cannot be read ({e.Message})."); }
        catch (UnauthorizedAccessException e) { throw new InvalidInputException($"{source}: cannot be read ({e.Message})."); }
    }

    static string? SuggestFile(string missing)
    {
        string? folder = System.IO.Path.GetDirectoryName(missing);
        if (folder is null || !Directory.Exists(folder)) return null;
        var candidates = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(System.IO.Path.GetExtension(f)))
            .Select(f => System.IO.Path.GetFileName(f));
        string? nearest = ManifestErrors.Nearest(System.IO.Path.GetFileName(missing), candidates);
        return nearest is null ? null : $"Did you mean `{nearest}`?";
    }

    /// <summary>Paths in messages: relative to the working directory when below it, else full (also for the directory itself).</summary>
    static string Display(string full)
    {
        string relative = System.IO.Path.GetRelativePath(Environment.CurrentDirectory, full);
        return relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(relative) ? full : relative;
    }
}
