// `tsae diff`: metric changes between two result documents as a Markdown table per section (old, new, delta,
// relative delta), changes beyond tolerance marked, configuration changes listed first. Ready for a pull request.
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TemporalSae.Review;

public static class ResultDiff
{
    public static string Markdown(string title, JsonObject? before, JsonObject? after, Tolerance tolerance, bool all = false)
    {
        var text = new StringBuilder($"### {title}\n\n");
        if (before is null) return text.Append("New result.\n").ToString();
        if (after is null) return text.Append("Result removed.\n").ToString();

        var config = ConfigChanges(before["config"], after["config"], "").ToList();
        if (config.Count > 0)
        {
            text.Append("Configuration:\n\n");
            foreach (string change in config) text.Append("- ").Append(change).Append('\n');
            text.Append('\n');
        }

        var old = ResultMetrics.Flatten(before).ToDictionary(m => (m.Section, m.Path), m => m.Value);
        var now = ResultMetrics.Flatten(after).ToDictionary(m => (m.Section, m.Path), m => m.Value);
        var keys = old.Keys.Union(now.Keys).OrderBy(k => k.Section, StringComparer.Ordinal).ThenBy(k => k.Path, StringComparer.Ordinal);
        int shown = 0;
        foreach (var section in keys.GroupBy(k => k.Section))
        {
            var rows = new List<string>();
            foreach (var key in section)
            {
                bool hasOld = old.TryGetValue(key, out double a), hasNew = now.TryGetValue(key, out double b);
                bool changed = !hasOld || !hasNew || !tolerance.Within(a, b);
                if (!changed && !all && a == b) continue;
                string delta = hasOld && hasNew ? F(b - a) : "";
                string relative = hasOld && hasNew && a != 0 ? ((b - a) / Math.Abs(a)).ToString("+0.00%;-0.00%;+0.00%", CultureInfo.InvariantCulture) : "";
                rows.Add($"| {key.Path} | {(hasOld ? F(a) : "–")} | {(hasNew ? F(b) : "–")} | {delta} | {relative} | {(changed ? "**beyond tolerance**" : "")} |");
            }
            if (rows.Count == 0) continue;
            shown += rows.Count;
            text.Append($"`{section.Key}`\n\n| metric | old | new | delta | relative | |\n|---|---|---|---|---|---|\n");
            foreach (string row in rows) text.Append(row).Append('\n');
            text.Append('\n');
        }
        if (shown == 0 && config.Count == 0) text.Append("No changes.\n");
        return text.ToString();
    }

    static IEnumerable<string> ConfigChanges(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (string key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                foreach (string change in ConfigChanges(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}"))
                    yield return change;
            yield break;
        }
        string sa = a?.ToJsonString() ?? "(absent)", sb = b?.ToJsonString() ?? "(absent)";
        if (sa != sb) yield return $"`{path}`: {sa} -> {sb}";
    }

    static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
