// Which held-out windows an evaluation reads. Splits are stored in corpus order (source by source, label by label), so
// the first N windows of a split are one source's first labels: a budget of 131k test tokens saw only Brown's news to
// belles_lettres. Evaluations instead take windows in a stratified order: every label (which names its source) is
// served in proportion to its windows, and inside a label the documents take turns, so a small budget still spans
// every source, label and many documents. The order is a pure function of the windows and a seed, and a smaller
// budget reads a prefix of a larger one's windows.

namespace TemporalSae.Data;

public static class WindowSampling
{
    /// <summary>
    /// Every window of <paramref name="windows"/> whose label passes <paramref name="keepLabel"/> (all when null), in
    /// stratified order. A window belongs to the label and document of its first non-special token; its label is its
    /// stratum. Inside a stratum the documents are put in a seeded order and dealt out in turns (each document's
    /// windows in a seeded order), so the r-th window of a stratum of n windows gets the key (r + u) / n with u in
    /// [0, 1) drawn per stratum; windows are then sorted by key. The first m windows hold m n / N +- 1 of each
    /// stratum: proportional allocation.
    /// </summary>
    public static int[] StratifiedOrder(ContextWindows windows, long seed, Func<int, bool>? keepLabel = null)
    {
        var random = new SplitMix64((ulong)seed);
        var byLabel = new SortedDictionary<int, SortedDictionary<int, List<int>>>();
        for (int w = 0; w < windows.Count; w++)
        {
            int first = FirstContentToken(windows, w);
            int label = windows.Tokens.LabelIds[first], document = windows.Tokens.DocumentIds[first];
            if (keepLabel is not null && !keepLabel(label)) continue;
            if (!byLabel.TryGetValue(label, out var documents)) byLabel[label] = documents = [];
            if (!documents.TryGetValue(document, out var list)) documents[document] = list = [];
            list.Add(w);
        }

        var keyed = new List<(double Key, int Window)>();
        foreach (var documents in byLabel.Values)
        {
            int[][] dealt = documents.Values.Select(list =>
            {
                int[] own = list.ToArray();
                random.Shuffle(own.AsSpan());
                return own;
            }).ToArray();
            random.Shuffle(dealt.AsSpan());
            var order = new List<int>();
            for (int turn = 0; order.Count < dealt.Sum(d => d.Length); turn++)
                foreach (int[] document in dealt)
                    if (turn < document.Length) order.Add(document[turn]);
            double offset = random.Next() / 18446744073709551616.0;                             // u in [0, 1)
            for (int r = 0; r < order.Count; r++) keyed.Add(((r + offset) / order.Count, order[r]));
        }
        return keyed.OrderBy(k => k.Key).ThenBy(k => k.Window).Select(k => k.Window).ToArray();
    }

    /// <summary>The first token of window <paramref name="w"/> that is not special (its first token when all are).</summary>
    static int FirstContentToken(ContextWindows windows, int w)
    {
        int start = w * windows.ContextSize;
        for (int i = start; i < start + windows.ContextSize; i++)
            if (!windows.Tokens.Special[i]) return i;
        return start;
    }
}
