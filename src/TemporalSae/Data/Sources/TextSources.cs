// The registry of text sources a manifest can choose with data.sources: each pinned to an npm package (by version
// and integrity) and read from its unpacked folder, or from a subfolder of a user's data.folder.

using TemporalSae.Infrastructure;

namespace TemporalSae.Data.Sources;

/// <summary>
/// A text source: its manifest key, where its files are in its npm package and in a user's data folder
/// (<see cref="FolderInDataFolder"/>, "" for the folder itself), whether its tokens carry POS tags, and its reader.
/// </summary>
public sealed record TextSource(
    string Key,
    string Description,
    PinnedPackage Package,
    string FolderInPackage,
    string FolderInDataFolder,
    bool HasPos,
    Func<string, IReadOnlyList<SourceDocument>> Load);

public static class TextSources
{
    public static readonly TextSource Brown = new(BrownCorpus.SourceName,
        "the Brown Corpus (1961 American English, 500 texts in 15 genres, POS-tagged)",
        PinnedPackage.BrownCorpus, "", "", HasPos: true, folder => BrownCorpus.Load(folder).ToDocuments());

    public static readonly TextSource Sotu = new(SotuAddresses.SourceName,
        "the State of the Union addresses 1790-2016 (233 addresses; labelled by party, with year, president and era)",
        PinnedPackage.Sotu, "data", "sotu", HasPos: false, SotuAddresses.Load);

    public static readonly TextSource MobyDick = new(Sources.MobyDick.SourceName,
        "Melville's Moby-Dick (135 chapters, etymology, extracts and epilogue; one document per chapter)",
        PinnedPackage.MobyDick, "data", "moby_dick", HasPos: false, Sources.MobyDick.Load);

    /// <summary>In the order their documents are numbered: Brown first, so adding sources never renumbers Brown's.</summary>
    public static readonly IReadOnlyList<TextSource> All = [Brown, Sotu, MobyDick];

    public static IReadOnlyList<string> Keys { get; } = All.Select(s => s.Key).ToArray();

    public static TextSource Get(string key) => All.FirstOrDefault(s => s.Key == key)
        ?? throw new InvalidInputException($"data.sources: `{key}` is not a known text source; expected some of: {string.Join(", ", Keys)}.");

    /// <summary>The chosen sources in registry order (a manifest's order does not renumber documents).</summary>
    public static IReadOnlyList<TextSource> Chosen(IReadOnlyList<string> keys)
    {
        if (keys.Count == 0) throw new InvalidInputException($"data.sources is empty; list at least one of: {string.Join(", ", Keys)}.");
        var chosen = keys.Select(Get).ToHashSet();
        if (chosen.Count != keys.Count) throw new InvalidInputException($"data.sources lists a source twice: [{string.Join(", ", keys)}].");
        return All.Where(chosen.Contains).ToArray();
    }
}
