// Turns an untagged source's raw text into a SourceDocument: typographic punctuation made ASCII, paragraphs and
// sentences found by SentenceSplitter.

using System.Text;
using System.Text.Json;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data.Sources;

public static class ProseText
{
    /// <summary>
    /// Curly quotes become straight ones and dashes become the forms Brown's rebuilt text uses ('--' for an em dash,
    /// '-' for en dashes and hyphens), so a punctuation mark is the same BPE tokens in every source; blank lines
    /// between paragraphs become one "\n" as in Brown's rebuilt text; text is NFC-normalised and trimmed.
    /// </summary>
    public static string Normalise(string raw)
    {
        var text = new StringBuilder(raw.Length);
        foreach (char c in raw.Normalize(NormalizationForm.FormC))
        {
            switch (c)
            {
                case '\u2018' or '\u2019' or '\u201B' or '\u2032': text.Append('\''); break;
                case '\u201C' or '\u201D' or '\u201F' or '\u2033': text.Append('"'); break;
                case '\u2014' or '\u2015': text.Append("--"); break;
                case '\u2010' or '\u2011' or '\u2012' or '\u2013': text.Append('-'); break;
                case '\u00A0': text.Append(' '); break;
                case '\r': break;
                default: text.Append(c); break;
            }
        }
        string[] paragraphs = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join('\n', paragraphs);
    }

    public static SourceDocument Document(string source, string name, string label, string raw, IReadOnlyDictionary<string, string> attributes)
    {
        string text = Normalise(raw);
        var (starts, ends) = SentenceSplitter.Split(text);
        return new SourceDocument(source, name, label, text, starts, ends, Words: null, SentenceSplitter.CountWords(text), attributes);
    }

    /// <summary>A JSON object's string member, or a located error.</summary>
    public static string String(JsonElement root, string key, string path) =>
        root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidInputException($"{path}: \"{key}\" must be a string.");
}
