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
        int[] first = Enumerable.Range(0, windows.Count).Select(w => FirstContentToken(windows, w)).ToArray();
        IEnumerable<int> kept = Enumerable.Range(0, windows.Count)
            .Where(w => keepLabel is null || keepLabel(windows.Tokens.LabelIds[first[w]]));
        return Stratified(kept, w => windows.Tokens.LabelIds[first[w]], w => windows.Tokens.DocumentIds[first[w]], new SplitMix64((ulong)seed));
    }

    /// <summary>
    /// <paramref name="items"/> in the stratified order above, each item's stratum being its label and its turn-taking
    /// group its document; <paramref name="random"/> is drawn from label by label, in ascending label order.
    /// </summary>
    public static int[] Stratified(IEnumerable<int> items, Func<int, int> labelOf, Func<int, int> documentOf, SplitMix64 random)
    {
        var keyed = new List<(double Key, int Item)>();
        foreach (var label in items.GroupBy(labelOf).OrderBy(g => g.Key))
        {
            int[][] dealt = label.GroupBy(documentOf).OrderBy(g => g.Key).Select(g =>
            {
                int[] own = g.ToArray();
                random.Shuffle(own.AsSpan());
                return own;
            }).ToArray();
            random.Shuffle(dealt.AsSpan());
            int total = dealt.Sum(d => d.Length);
            var order = new List<int>(total);
            for (int turn = 0; order.Count < total; turn++)
                foreach (int[] document in dealt)
                    if (turn < document.Length) order.Add(document[turn]);
            double offset = random.Next() / 18446744073709551616.0;                             // u in [0, 1)
            for (int r = 0; r < order.Count; r++) keyed.Add(((r + offset) / order.Count, order[r]));
        }
        return keyed.OrderBy(k => k.Key).ThenBy(k => k.Item).Select(k => k.Item).ToArray();
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
