// Evaluation windows: the stratified order serves every label in proportion to its windows and lets a label's
// documents take turns, where the first windows of a split (corpus order) are one label's first documents.
using TemporalSae.Data;
using TemporalSae.Evals;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Data;

public class WindowSamplingTests
{
    const int Context = 4;

    /// <summary>
    /// Documents in corpus order, each of one label, a separator and <paramref name="windowsPerDocument"/> windows'
    /// worth of tokens (the first window takes the separator as its BOS, the others get one inserted).
    /// </summary>
    static ContextWindows Split(int windowsPerDocument, params (short Label, int Documents)[] labels)
    {
        int documents = labels.Sum(l => l.Documents), perDocument = 1 + windowsPerDocument * (Context - 1);
        var stream = TokenMetadata.Empty(documents * perDocument);
        int p = 0, document = 0;
        foreach ((short label, int count) in labels)
            for (int d = 0; d < count; d++, document++)
                for (int t = 0; t < perDocument; t++, p++)
                    stream.Set(p, t == 0 ? Gpt2Tokenizer.EndOfText : 100 + t, document, document, label, 2, special: t == 0);
        ContextWindows windows = ContextWindows.Cut(stream, Context, Gpt2Tokenizer.EndOfText);
        Assert.Equal(documents * windowsPerDocument, windows.Count);
        return windows;
    }

    static int LabelOf(ContextWindows windows, int w) => windows.Tokens.LabelIds[w * Context + 1];
    static int DocumentOf(ContextWindows windows, int w) => windows.Tokens.DocumentIds[w * Context + 1];

    [Fact]
    public void The_held_out_spectrum_spans_every_label_when_its_budget_is_smaller_than_the_first_label()
    {
        // Label 0 holds 24 of 36 windows; a 10-window budget in corpus order would read label 0 alone.
        ContextWindows windows = Split(4, (0, 6), (1, 2), (2, 1));
        int[] chosen = TemporalSae.Activations.ActivationsStage.HeldoutWindows(windows, tokens: 10 * Context, seed: 5);
        Assert.Equal(10, chosen.Length);
        Assert.Equal([0, 1, 2], chosen.Select(w => LabelOf(windows, w)).Distinct().Order());
        Assert.Equal(windows.Count, TemporalSae.Activations.ActivationsStage.HeldoutWindows(windows, tokens: 1_000_000, seed: 5).Length);
        Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(
            () => TemporalSae.Activations.ActivationsStage.HeldoutWindows(windows, tokens: Context - 1, seed: 5));
    }

    [Fact]
    public void Every_prefix_holds_each_label_in_proportion_to_its_windows()
    {
        // 60%, 30% and 10% of the windows; in corpus order the first 40% are all label 0.
        ContextWindows windows = Split(5, (0, 12), (1, 6), (2, 2));
        int[] order = WindowSampling.StratifiedOrder(windows, seed: 7);
        Assert.Equal(Enumerable.Range(0, windows.Count), order.Order());
        foreach (int m in new[] { 10, 20, 40, 77 })
        {
            var counts = order.Take(m).GroupBy(w => LabelOf(windows, w)).ToDictionary(g => g.Key, g => g.Count());
            foreach ((int label, double share) in new[] { (0, 0.6), (1, 0.3), (2, 0.1) })
                Assert.InRange(counts.GetValueOrDefault(label), Math.Floor(share * m) - 1, Math.Ceiling(share * m) + 1);
        }
    }

    [Fact]
    public void Inside_a_label_documents_take_turns()
    {
        ContextWindows windows = Split(5, (0, 6), (1, 6));
        int[] label0 = WindowSampling.StratifiedOrder(windows, seed: 3).Where(w => LabelOf(windows, w) == 0).ToArray();
        // Six documents of five windows: each run of six holds every document once.
        for (int turn = 0; turn < 5; turn++)
            Assert.Equal(6, label0.Skip(6 * turn).Take(6).Select(w => DocumentOf(windows, w)).Distinct().Count());
    }

    [Fact]
    public void The_order_is_a_function_of_the_seed()
    {
        ContextWindows windows = Split(3, (0, 5), (1, 4), (2, 3));
        Assert.Equal(WindowSampling.StratifiedOrder(windows, 11), WindowSampling.StratifiedOrder(windows, 11));
        Assert.NotEqual(WindowSampling.StratifiedOrder(windows, 11), WindowSampling.StratifiedOrder(windows, 12));
    }

    [Fact]
    public void A_label_filter_keeps_only_its_labels_windows()
    {
        ContextWindows windows = Split(3, (0, 5), (1, 4), (2, 3));
        int[] order = WindowSampling.StratifiedOrder(windows, 5, label => label != 1);
        Assert.Equal(8 * 3, order.Length);
        Assert.DoesNotContain(order, w => LabelOf(windows, w) == 1);
    }

    [Fact]
    public void Chosen_windows_are_read_in_corpus_order()
    {
        ContextWindows windows = Split(2, (0, 3), (1, 3));
        EvalWindows chosen = EvalWindows.Of(windows, WindowSampling.StratifiedOrder(windows, 1).Take(4));
        Assert.Equal(4, chosen.Count);
        int[] documents = Enumerable.Range(0, 4).Select(i => chosen.Tokens.DocumentIds[i * Context + 1]).ToArray();
        Assert.Equal(documents.Order(), documents);
        Assert.Equal(2, Enumerable.Range(0, 4).Count(i => chosen.Tokens.LabelIds[i * Context + 1] == 1));
    }
}
