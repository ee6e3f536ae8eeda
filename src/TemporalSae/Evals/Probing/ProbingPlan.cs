// Which examples the sparse probing evaluation uses, decided from token metadata alone before any forward pass, so
// the subject model and the SAE run only over the windows the tasks need. Follows SAEBench's sparse_probing: balanced
// one-vs-rest tasks, training examples from the training split and test examples from the test split.
//
// Genre tasks are document level: an example is a context window lying in one document, labelled by its genre. Per
// split, each genre contributes up to examples-per-class of its windows (seeded draw); genre g's task takes those as
// positives and draws as many negatives from the other genres' windows. Part-of-speech tasks are token level: an
// example is one non-special token carrying a word's tag, drawn from the same windows, positive when its universal
// tag is the task's. So every example of every task lies in the selected windows.
using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Evals.Probing;

/// <summary>
/// One balanced task. Rows index the plan's windows (document-level tasks) or its tokens (token-level tasks); labels
/// are true for positives.
/// </summary>
public sealed record ProbingTask(string Name, string Group, bool TokenLevel, int[] TrainRows, bool[] TrainLabels, int[] TestRows, bool[] TestLabels);

/// <summary>A task left out, and why.</summary>
public sealed record SkippedTask(string Name, string Reason);

/// <summary>A token example: position <see cref="Position"/> of plan window <see cref="Window"/>.</summary>
public readonly record struct TokenExample(int Window, int Position);

public sealed class ProbingPlan
{
    /// <summary>Fewer held-out (or training) examples than this and a task's accuracy means nothing.</summary>
    public const int MinExamplesPerClass = 2;

    ProbingPlan(EvalWindows windows, IReadOnlyList<TokenExample> tokens, IReadOnlyList<ProbingTask> tasks, IReadOnlyList<SkippedTask> skipped)
    {
        Windows = windows;
        Tokens = tokens;
        Tasks = tasks;
        Skipped = skipped;
    }

    /// <summary>The selected windows: training split first, then test, each in corpus order.</summary>
    public EvalWindows Windows { get; }

    /// <summary>The tokens any token-level task uses, ordered by window and position.</summary>
    public IReadOnlyList<TokenExample> Tokens { get; }

    public IReadOnlyList<ProbingTask> Tasks { get; }
    public IReadOnlyList<SkippedTask> Skipped { get; }

    public static ProbingPlan Build(PreparedData data, int contextSize, SparseProbingEvalConfig config, long seed) =>
        Build(data.Windows(Split.Train, contextSize), data.Windows(Split.Test, contextSize), data.Corpus.Labels, data.Corpus.PosTags, config, seed);

    /// <param name="posTags">The corpus' Brown tags, indexed by POS id.</param>
    public static ProbingPlan Build(ContextWindows train, ContextWindows test, IReadOnlyList<string> genres, IReadOnlyList<string> posTags,
        SparseProbingEvalConfig config, long seed)
    {
        if (train.ContextSize != test.ContextSize) throw new ArgumentException("train and test windows differ in length");
        int contextSize = train.ContextSize;
        IReadOnlyList<int> probedGenres = ResolveGenres(config.Genres, genres);
        CheckPosTags(config.PosTags);

        // Per split and genre, the selected windows (as indices into that split's windows), in corpus order.
        var selection = new Dictionary<Split, int[][]>
        {
            [Split.Train] = SelectWindows(train, genres.Count, config.TrainExamplesPerClass, seed, Split.Train),
            [Split.Test] = SelectWindows(test, genres.Count, config.TestExamplesPerClass, seed, Split.Test),
        };
        // Plan rows: training windows first, then test windows, each in corpus order.
        int[] trainWindows = selection[Split.Train].SelectMany(w => w).Order().ToArray();
        int[] testWindows = selection[Split.Test].SelectMany(w => w).Order().ToArray();
        var rowOf = new Dictionary<Split, Dictionary<int, int>>
        {
            [Split.Train] = trainWindows.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i),
            [Split.Test] = testWindows.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i + trainWindows.Length),
        };
        var tokens = TokenMetadata.Empty((trainWindows.Length + testWindows.Length) * contextSize);
        train.Gather(trainWindows).CopyTo(0, tokens, 0, trainWindows.Length * contextSize);
        test.Gather(testWindows).CopyTo(0, tokens, trainWindows.Length * contextSize, testWindows.Length * contextSize);
        var windows = new EvalWindows(tokens, trainWindows.Length + testWindows.Length, contextSize);

        var tasks = new List<ProbingTask>();
        var skipped = new List<SkippedTask>();
        foreach (int genre in probedGenres)
        {
            string name = $"genre:{genres[genre]}";
            (int[] Rows, bool[] Labels) Draw(Split split, int perClass)
            {
                int[][] bySplit = selection[split];
                int[] positives = bySplit[genre].Select(w => rowOf[split][w]).ToArray();
                int[] negatives = bySplit.Where((_, g) => g != genre).SelectMany(w => w).Select(w => rowOf[split][w]).Order().ToArray();
                return Labelled(BalancedSampler.Draw(positives, negatives, perClass, DrawSeed(seed, split, name)));
            }
            AddTask(name, "genre", tokenLevel: false, Draw(Split.Train, config.TrainExamplesPerClass), Draw(Split.Test, config.TestExamplesPerClass),
                "windows", tasks, skipped);
        }

        // Token candidates by universal tag, per split, as plan rows * contextSize + position.
        string[] coarse = posTags.Select(BrownTagset.Coarse).ToArray();
        var candidates = new Dictionary<Split, List<(long Key, string Tag)>> { [Split.Train] = [], [Split.Test] = [] };
        for (int row = 0; row < windows.Count; row++)
        {
            Split split = row < trainWindows.Length ? Split.Train : Split.Test;
            for (int t = 0; t < contextSize; t++)
            {
                int i = row * contextSize + t;
                if (!tokens.Special[i] && TokenizedCorpus.IsTagged(tokens.PosIds[i]))
                    candidates[split].Add(((long)i, coarse[tokens.PosIds[i]]));
            }
        }
        var posDraws = new List<(string Name, int[] TrainKeys, bool[] TrainLabels, int[] TestKeys, bool[] TestLabels)>();
        foreach (string tag in config.PosTags)
        {
            string name = $"pos:{tag}";
            (int[] Keys, bool[] Labels) Draw(Split split, int perClass)
            {
                int[] positives = candidates[split].Where(c => c.Tag == tag).Select(c => (int)c.Key).ToArray();
                int[] negatives = candidates[split].Where(c => c.Tag != tag).Select(c => (int)c.Key).ToArray();
                return Labelled(BalancedSampler.Draw(positives, negatives, perClass, DrawSeed(seed, split, name)));
            }
            var trainDraw = Draw(Split.Train, config.TrainExamplesPerClass);
            var testDraw = Draw(Split.Test, config.TestExamplesPerClass);
            posDraws.Add((name, trainDraw.Keys, trainDraw.Labels, testDraw.Keys, testDraw.Labels));
        }
        // Token rows: every drawn token once, in window and position order.
        int[] tokenKeys = posDraws.SelectMany(d => d.TrainKeys.Concat(d.TestKeys)).Distinct().Order().ToArray();
        var tokenRow = tokenKeys.Select((key, i) => (key, i)).ToDictionary(p => p.key, p => p.i);
        foreach (var draw in posDraws)
            AddTask(draw.Name, "pos", tokenLevel: true,
                (draw.TrainKeys.Select(k => tokenRow[k]).ToArray(), draw.TrainLabels),
                (draw.TestKeys.Select(k => tokenRow[k]).ToArray(), draw.TestLabels), "tokens", tasks, skipped);

        TokenExample[] tokenExamples = tokenKeys.Select(k => new TokenExample(k / contextSize, k % contextSize)).ToArray();
        return new ProbingPlan(windows, tokenExamples, tasks, skipped);
    }

    static void AddTask(string name, string group, bool tokenLevel, (int[] Rows, bool[] Labels) train, (int[] Rows, bool[] Labels) test,
        string unit, List<ProbingTask> tasks, List<SkippedTask> skipped)
    {
        int trainPerClass = train.Rows.Length / 2, testPerClass = test.Rows.Length / 2;
        if (testPerClass < MinExamplesPerClass || trainPerClass < MinExamplesPerClass)
            skipped.Add(new SkippedTask(name,
                $"{trainPerClass} training and {testPerClass} test {unit} per class (at least {MinExamplesPerClass} of each needed)"));
        else
            tasks.Add(new ProbingTask(name, group, tokenLevel, train.Rows, train.Labels, test.Rows, test.Labels));
    }

    static (int[] Rows, bool[] Labels) Labelled((int[] Positives, int[] Negatives) draw) =>
        ([.. draw.Positives, .. draw.Negatives], [.. draw.Positives.Select(_ => true), .. draw.Negatives.Select(_ => false)]);

    static ulong DrawSeed(long seed, Split split, string name) =>
        (ulong)ContentHash.DeriveSeed(seed, $"sparse_probing/{split.ToString().ToLowerInvariant()}/{name}");

    /// <summary>Per genre, up to <paramref name="perClass"/> windows lying in one document, drawn by seed, in corpus order.</summary>
    static int[][] SelectWindows(ContextWindows windows, int genreCount, int perClass, long seed, Split split)
    {
        var byGenre = Enumerable.Range(0, genreCount).Select(_ => new List<int>()).ToArray();
        int t = windows.ContextSize;
        for (int w = 0; w < windows.Count; w++)
        {
            // The BOS a window may start with carries the document it opens, so one document id means one document.
            int document = windows.Tokens.DocumentIds[w * t];
            bool single = true;
            for (int i = 1; i < t && single; i++) single = windows.Tokens.DocumentIds[w * t + i] == document;
            if (single) byGenre[windows.Tokens.LabelIds[w * t]].Add(w);
        }
        return byGenre.Select((pool, g) =>
            BalancedSampler.Take(pool, perClass, new SplitMix64(DrawSeed(seed, split, $"windows/{g}"))).Order().ToArray()).ToArray();
    }

    static IReadOnlyList<int> ResolveGenres(IReadOnlyList<string> requested, IReadOnlyList<string> genres)
    {
        if (requested.Count == 0) return Enumerable.Range(0, genres.Count).ToArray();
        return requested.Select(name =>
        {
            int index = genres.ToList().IndexOf(name);
            return index >= 0 ? index : throw new InvalidInputException(
                $"evals.sparse_probing.genres: unknown genre '{name}'; known genres: {string.Join(", ", genres)}.");
        }).ToArray();
    }

    /// <summary>Rejects a POS tag that is not a universal tag (checked before a run starts, too).</summary>
    public static void CheckPosTags(IReadOnlyList<string> requested)
    {
        foreach (string tag in requested)
            if (!BrownTagset.Universal.Contains(tag))
                throw new InvalidInputException(
                    $"evals.sparse_probing.pos_tags: unknown universal POS tag '{tag}'; known tags: {string.Join(", ", BrownTagset.Universal)}.");
    }
}
