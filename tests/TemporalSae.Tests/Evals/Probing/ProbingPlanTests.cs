using TemporalSae.Data;
using TemporalSae.Evals.Probing;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Evals.Probing;

public sealed class ProbingPlanTests
{
    const int T = 8;
    static readonly string[] Genres = ["news", "fiction", "lore"];
    static readonly string[] BrownTags = ["none", "absent", "nn", "vb", "at"];   // NOUN, VERB, DET

    /// <summary>A split's stream: each document opens with a special BOS, then words cycling through nn, vb, at.</summary>
    static ContextWindows Split(int firstDocument, params (int Genre, int Tokens)[] documents)
    {
        var tokens = TokenMetadata.Empty(documents.Sum(d => d.Tokens + 1));
        int p = 0;
        for (int d = 0; d < documents.Length; d++)
        {
            short genre = (short)documents[d].Genre;
            tokens.Set(p++, Gpt2Tokenizer.EndOfText, firstDocument + d, 0, genre, TokenizedCorpus.NoPos, special: true);
            for (int i = 0; i < documents[d].Tokens; i++) tokens.Set(p++, 10 + i, firstDocument + d, 0, genre, (short)(2 + i % 3), special: false);
        }
        return ContextWindows.Cut(tokens, T, Gpt2Tokenizer.EndOfText);
    }

    static readonly ContextWindows Train = Split(0, (0, 200), (1, 150), (2, 100), (0, 60));
    static readonly ContextWindows Test = Split(10, (0, 80), (1, 70), (2, 7));   // "lore" has one test window

    static SparseProbingEvalConfig Config(params string[] genres) => new()
    {
        Genres = genres,
        PosTags = ["NOUN", "DET"],
        TrainExamplesPerClass = 6,
        TestExamplesPerClass = 4,
    };

    [Fact]
    public void Tasks_are_balanced_and_train_and_test_come_from_their_splits()
    {
        ProbingPlan plan = ProbingPlan.Build(Train, Test, Genres, BrownTags, Config(), seed: 3);
        Assert.Equal(["genre:news", "genre:fiction", "pos:NOUN", "pos:DET"], plan.Tasks.Select(t => t.Name));
        Assert.Equal("genre:lore", Assert.Single(plan.Skipped).Name);

        int trainWindows = Enumerable.Range(0, plan.Windows.Count).Count(w => plan.Windows.Tokens.DocumentIds[w * T] < 10);
        foreach (ProbingTask task in plan.Tasks)
        {
            Assert.Equal(task.TrainLabels.Count(l => l), task.TrainLabels.Count(l => !l));
            Assert.Equal(task.TestLabels.Count(l => l), task.TestLabels.Count(l => !l));
            Assert.Equal(12, task.TrainRows.Length);
            Assert.Equal(8, task.TestRows.Length);
            int WindowOf(int row) => task.TokenLevel ? plan.Tokens[row].Window : row;
            Assert.All(task.TrainRows, r => Assert.True(WindowOf(r) < trainWindows));
            Assert.All(task.TestRows, r => Assert.True(WindowOf(r) >= trainWindows));
        }

        ProbingTask news = plan.Tasks[0];
        for (int i = 0; i < news.TrainRows.Length; i++)
        {
            int w = news.TrainRows[i];
            Assert.Equal(news.TrainLabels[i], plan.Windows.Tokens.LabelIds[w * T] == 0);
            Assert.All(Enumerable.Range(0, T), t => Assert.Equal(plan.Windows.Tokens.DocumentIds[w * T], plan.Windows.Tokens.DocumentIds[w * T + t]));
        }
        ProbingTask noun = plan.Tasks[2];
        for (int i = 0; i < noun.TrainRows.Length; i++)
        {
            TokenExample token = plan.Tokens[noun.TrainRows[i]];
            int at = token.Window * T + token.Position;
            Assert.False(plan.Windows.Tokens.Special[at]);
            Assert.Equal(noun.TrainLabels[i], BrownTags[plan.Windows.Tokens.PosIds[at]] == "nn");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_plan_and_another_seed_another()
    {
        ProbingPlan a = ProbingPlan.Build(Train, Test, Genres, BrownTags, Config(), seed: 3);
        ProbingPlan b = ProbingPlan.Build(Train, Test, Genres, BrownTags, Config(), seed: 3);
        ProbingPlan c = ProbingPlan.Build(Train, Test, Genres, BrownTags, Config(), seed: 4);
        Assert.Equal(a.Windows.Tokens.TokenIds, b.Windows.Tokens.TokenIds);
        Assert.Equal(a.Tasks.SelectMany(t => t.TrainRows), b.Tasks.SelectMany(t => t.TrainRows));
        Assert.NotEqual(a.Tasks.SelectMany(t => t.TrainRows.Select(r => t.TokenLevel ? a.Tokens[r] : new TokenExample(r, -1))),
                        c.Tasks.SelectMany(t => t.TrainRows.Select(r => t.TokenLevel ? c.Tokens[r] : new TokenExample(r, -1))));
    }

    [Fact]
    public void Unknown_genres_and_tags_name_the_key_and_the_known_values()
    {
        var genre = Assert.Throws<InvalidInputException>(() => ProbingPlan.Build(Train, Test, Genres, BrownTags, Config("poetry"), seed: 3));
        Assert.Contains("evals.sparse_probing.genres", genre.Message);
        Assert.Contains("news, fiction, lore", genre.Message);

        var tag = Assert.Throws<InvalidInputException>(() => ProbingPlan.Build(Train, Test, Genres, BrownTags, Config() with { PosTags = ["NN"] }, seed: 3));
        Assert.Contains("evals.sparse_probing.pos_tags", tag.Message);
        Assert.Contains("NOUN", tag.Message);
    }

    [Fact]
    public void Summary_has_saebench_keys_and_means_over_tasks()
    {
        ProbingTask Task(string name, string group) => new(name, group, group == "pos", [0, 1], [true, false], [2, 3], [true, false]);
        var results = new[]
        {
            new SparseProbingEvalStage.TaskResult(Task("genre:news", "genre"), new ProbeAccuracies(0.9, [(1, 0.6), (2, 0.7)]), new ProbeAccuracies(0.8, [(1, 0.5), (2, 0.9)])),
            new SparseProbingEvalStage.TaskResult(Task("pos:NOUN", "pos"), new ProbeAccuracies(0.7, [(1, 0.8), (2, 0.9)]), new ProbeAccuracies(1.0, [(1, 0.7), (2, 0.7)])),
        };
        var json = SparseProbingEvalStage.ToJson(results, [new SkippedTask("genre:lore", "too few")], [1, 2]);
        Assert.Equal(0.8, (double)json["llm"]!["llm_test_accuracy"]!, 12);
        Assert.Equal(0.7, (double)json["llm"]!["llm_top_1_test_accuracy"]!, 12);
        Assert.Equal(0.8, (double)json["sae"]!["sae_top_2_test_accuracy"]!, 12);
        Assert.Equal(0.5, (double)json["genre"]!["sae"]!["sae_top_1_test_accuracy"]!, 12);
        Assert.Equal(0.7, (double)json["pos"]!["llm"]!["llm_test_accuracy"]!, 12);
        Assert.Equal("pos:NOUN", (string)json["tasks"]![1]!["task"]!);
        Assert.Equal(2, (int)json["tasks"]![1]!["train_examples"]!);
        Assert.Equal(0.7, (double)json["tasks"]![1]!["sae_top_1_test_accuracy"]!, 12);
        Assert.Equal("genre:lore", (string)json["skipped"]![0]!["task"]!);
    }
}
