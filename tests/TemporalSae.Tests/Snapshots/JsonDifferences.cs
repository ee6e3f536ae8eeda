// Where two JSON documents differ, as readable lines: numbers compared with the review tolerance (the rule `tsae diff`
// uses, src/TemporalSae/Review/Tolerance.cs), everything else exactly: strings, booleans, nulls, keys and array lengths.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TemporalSae.Review;

namespace TemporalSae.Tests.Snapshots;

public static class JsonDifferences
{
    /// <summary>One line per difference, e.g. "`evals.core.sparsity.l0`: 12.5 -> 13.1", in document order.</summary>
    /// <param name="shapeOnly">Paths whose scalars are compared by presence only (keys and array lengths still count).</param>
    public static IReadOnlyList<string> Find(JsonNode? expected, JsonNode? actual, Tolerance tolerance, Func<string, bool>? shapeOnly = null)
    {
        var differences = new List<string>();
        Walk(expected, actual, "", tolerance, shapeOnly ?? (_ => false), differences);
        return differences;
    }

    static void Walk(JsonNode? expected, JsonNode? actual, string path, Tolerance tolerance, Func<string, bool> shapeOnly, List<string> differences)
    {
        string at = path.Length == 0 ? "(document)" : path;
        switch (expected, actual)
        {
            case (JsonValue or null, JsonValue or null) when shapeOnly(path):
                break;
            case (JsonObject a, JsonObject b):
                foreach (var (key, value) in a)
                {
                    string child = path.Length == 0 ? key : $"{path}.{key}";
                    if (!b.ContainsKey(key)) differences.Add($"`{child}`: {Show(value)} -> (absent)");
                    else Walk(value, b[key], child, tolerance, shapeOnly, differences);
                }
                foreach (var (key, value) in b)
                    if (!a.ContainsKey(key))
                        differences.Add($"`{(path.Length == 0 ? key : $"{path}.{key}")}`: (absent) -> {Show(value)}");
                break;
            case (JsonArray a, JsonArray b):
                if (a.Count != b.Count)
                {
                    differences.Add($"`{at}`: {a.Count} items -> {b.Count} items");
                    break;
                }
                for (int i = 0; i < a.Count; i++) Walk(a[i], b[i], $"{path}[{i}]", tolerance, shapeOnly, differences);
                break;
            case (JsonValue a, JsonValue b) when IsNumber(a) && IsNumber(b):
                double x = ToDouble(a), y = ToDouble(b);
                if (!tolerance.Within(x, y)) differences.Add($"`{at}`: {Number(x)} -> {Number(y)}");
                break;
            default:
                // Scalars of other kinds, or a change of kind (a number that became a string, an object that became null).
                if (Show(expected) != Show(actual)) differences.Add($"`{at}`: {Show(expected)} -> {Show(actual)}");
                break;
        }
    }

    static bool IsNumber(JsonValue value) => value.GetValueKind() == JsonValueKind.Number;

    // Through the JSON text: a value built in memory may hold an int or a long, which GetValue<double> refuses.
    static double ToDouble(JsonValue value) => double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);

    static string Number(double value) => value.ToString("G9", CultureInfo.InvariantCulture);

    /// <summary>A node as compact JSON, cut short when long (a whole section that appeared, a long description).</summary>
    static string Show(JsonNode? node)
    {
        string text = node?.ToJsonString() ?? "null";
        return text.Length <= 120 ? text : text[..117] + "...";
    }
}
