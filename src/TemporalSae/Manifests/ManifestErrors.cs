using TemporalSae.Infrastructure;

namespace TemporalSae.Manifests;

// Error messages of the manifest system: one headline naming where (file:line:column or the --set override) and which
// key, then a few indented lines saying what was expected and what to do. Never a stack trace; the CLI prints
// InvalidInputException messages as they are.

static class ManifestErrors
{
    public static InvalidInputException At(SourceLocation location, string headline, params string?[] details)
    {
        var lines = new List<string> { $"{location}: {headline}" };
        lines.AddRange(details.Where(d => !string.IsNullOrEmpty(d)).Select(d => "  " + d));
        return new InvalidInputException(string.Join('\n', lines));
    }

    /// <summary>"Did you mean `x`?" for the candidate closest to <paramref name="given"/>, or null when none is close.</summary>
    public static string? DidYouMean(string given, IEnumerable<string> candidates)
    {
        string? nearest = Nearest(given, candidates);
        return nearest is null ? null : $"Did you mean `{nearest}`?";
    }

    public static string? Nearest(string given, IEnumerable<string> candidates)
    {
        string normalised = Normalise(given);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            // learningRate, Learning-Rate and learning_rate are the same key to a reader.
            int distance = Normalise(candidate) == normalised ? 0 : EditDistance(given.ToLowerInvariant(), candidate);
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        // A suggestion further away than about a third of the word is noise, not help.
        return best is not null && bestDistance <= Math.Max(2, given.Length / 3) ? best : null;
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    static string Normalise(string key) => key.Replace("_", "").Replace("-", "").ToLowerInvariant();
}
