using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TemporalSae.Results;

/// <summary>
/// The one JSON text form of results and stage summaries, made for readable git diffs: two-space indentation,
/// keys in insertion order (the producer's order is the schema), LF line endings, and fixed number formatting
/// (integers as integers, other numbers with 6 significant digits, shortest form, invariant culture).
/// NaN and infinities are refused: a result that contains them is not a result.
/// </summary>
public static class ResultJson
{
    public const string FloatFormat = "G6";

    public static string Serialize(JsonNode node)
    {
        var text = new StringBuilder();
        Write(node, text, 0, "$");
        text.Append('\n');
        return text.ToString();
    }

    /// <summary>One line of JSON Lines (no newline): flat objects with the same number formatting.</summary>
    public static string SerializeLine(JsonObject line)
    {
        var text = new StringBuilder("{");
        int i = 0;
        foreach (var (key, value) in line)
        {
            if (i++ > 0) text.Append(", ");
            text.Append(JsonSerializer.Serialize(key)).Append(": ");
            Write(value, text, 0, $"$.{key}");
        }
        return text.Append('}').ToString();
    }

    /// <summary>Rounds a double exactly as it will be written, so that comparisons can use written values.</summary>
    public static double Round(double value) => double.Parse(value.ToString(FloatFormat, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    static void Write(JsonNode? node, StringBuilder text, int depth, string path)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0) { text.Append("{}"); break; }
                text.Append("{\n");
                int i = 0;
                foreach (var (key, value) in obj)
                {
                    Indent(text, depth + 1);
                    text.Append(JsonSerializer.Serialize(key)).Append(": ");
                    Write(value, text, depth + 1, $"{path}.{key}");
                    text.Append(++i < obj.Count ? ",\n" : "\n");
                }
                Indent(text, depth);
                text.Append('}');
                break;
            case JsonArray array:
                if (array.Count == 0) { text.Append("[]"); break; }
                bool scalars = array.All(item => item is JsonValue);
                if (scalars)
                {
                    // Short lists of scalars stay on one line: easier to read in a diff than one value per line.
                    text.Append('[');
                    for (int j = 0; j < array.Count; j++)
                    {
                        if (j > 0) text.Append(", ");
                        Write(array[j], text, depth + 1, $"{path}[{j}]");
                    }
                    text.Append(']');
                    break;
                }
                text.Append("[\n");
                for (int j = 0; j < array.Count; j++)
                {
                    Indent(text, depth + 1);
                    Write(array[j], text, depth + 1, $"{path}[{j}]");
                    text.Append(j + 1 < array.Count ? ",\n" : "\n");
                }
                Indent(text, depth);
                text.Append(']');
                break;
            case JsonValue value:
                text.Append(FormatValue(value, path));
                break;
        }
    }

    static string FormatValue(JsonValue value, string path)
    {
        if (value.TryGetValue(out string? s)) return JsonSerializer.Serialize(s);
        if (value.TryGetValue(out bool b)) return b ? "true" : "false";
        if (value.TryGetValue(out int i32)) return i32.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue(out long i64)) return i64.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue(out double d)) return FormatDouble(d, path);
        if (value.TryGetValue(out float f)) return FormatDouble(f, path);
        if (value.TryGetValue(out JsonElement element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.Number when element.TryGetInt64(out long l) => l.ToString(CultureInfo.InvariantCulture),
                JsonValueKind.Number => FormatDouble(element.GetDouble(), path),
                JsonValueKind.String => JsonSerializer.Serialize(element.GetString()),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => "null",
                _ => throw new InvalidOperationException($"{path}: unsupported JSON element {element.ValueKind}"),
            };
        }
        return value.ToJsonString();
    }

    static string FormatDouble(double d, string path)
    {
        if (!double.IsFinite(d))
            throw new InvalidOperationException($"{path} is {d}; results must be finite numbers");
        if (d == Math.Floor(d) && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture) + ".0";
        return d.ToString(FloatFormat, CultureInfo.InvariantCulture);
    }

    static void Indent(StringBuilder text, int depth) => text.Append(' ', depth * 2);
}
