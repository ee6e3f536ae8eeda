using TemporalSae.Data;
using TemporalSae.Evals.Unlearning;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Tokenizers;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Unlearning;

/// <summary>Latent selection, the clamp, question building and the score, on small hand-made inputs.</summary>
public sealed class UnlearningTests
{
    [Fact]
    public void A_planted_forget_only_latent_is_chosen_first_and_retain_latents_are_excluded()
    {
        // Latent 2 fires on 40% of forget tokens and never on retain ones; latent 0 fires more on forget (60%) but
        // also on 5% of retain tokens, above both thresholds; latent 1 fires a little on both.
        double[] forget = [0.6, 0.1, 0.4, 0.0];
        double[] retain = [0.05, 0.0005, 0.0, 0.0];
        Assert.Equal([2], LatentClamp.Select(forget, retain, retainThreshold: 0.001, count: 1));
        Assert.Equal([2, 1, 3], LatentClamp.Select(forget, retain, retainThreshold: 0.001, count: 10));
        Assert.Equal([2, 1], LatentClamp.Select(forget, retain, retainThreshold: 0.01, count: 2));
        Assert.Equal([0, 2], LatentClamp.Select(forget, retain, retainThreshold: 0.1, count: 2));
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static SparseAutoencoder Sae() => SaeRegistry.Default.Create(new SaeConfig { Architecture = "standard", DSae = 16 }, 8, seed: 3);

    [Fact]
    public void The_clamp_changes_nothing_without_chosen_latents_and_keeps_special_positions()
    {
        using var sae = Sae();
        using var x = randn([2, 5, 8], generator: new TorchSharp.torch.Generator(7)) * 3;
        var special = zeros([2, 5], ScalarType.Bool);
        special[0, 0] = tensor(true);
        var batch = new ActivationBatch(x, zeros([2, 5], ScalarType.Int64), zeros([2, 5], ScalarType.Int64), special);

        using var none = zeros(16, ScalarType.Bool);
        Assert.True(Same(LatentClamp.Apply(sae, batch, none, 100), x));

        using var f = sae.Encode(batch);
        using var all = ones(16, ScalarType.Bool);
        using var edited = LatentClamp.Apply(sae, batch, all, 100);
        Assert.True(f.gt(0).any().item<bool>(), "the test needs some latent to fire");
        Assert.False(Same(edited, x));
        Assert.True(Same(edited[0, 0], x[0, 0]), "a special position keeps its activation");
        // Where nothing fires, nothing is clamped: x' = x exactly at those tokens.
        using var quiet = f.gt(0).any(-1).logical_not();                                       // [2, 5]
        Assert.True(Same(edited[quiet], x[quiet]));
    }

    [Fact]
    public void Score_is_one_minus_the_worst_forget_accuracy_that_kept_retain_and_zero_without_one()
    {
        Assert.Equal(0.75, UnlearningEvalStage.Score(0.25), 12);
        Assert.Equal(0, UnlearningEvalStage.Score(null));
        Assert.Equal(0, UnlearningEvalStage.Score(1.0));
    }

    [Fact]
    public void Retain_questions_are_taken_from_each_genre_in_turn()
    {
        var questions = new[] { 3, 3, 3, 5, 7, 7 }.Select(g => new NextWordQuestion(g, TokenMetadata.Empty(1), [1, 2, 3, 4])).ToList();
        Assert.Equal([3, 5, 7, 3], UnlearningEvalStage.TakeInTurn(questions, 4).Select(q => q.Genre).ToArray());
        Assert.Equal(6, UnlearningEvalStage.TakeInTurn(questions, 100).Count);
    }

    // POS ids: 0 none, 1 absent, 2 nn (NOUN), 3 vb (VERB), 4 at (DET).
    static readonly string[] Tags = ["none", "absent", "nn", "vb", "at"];

    /// <summary>Two documents (genres 0 and 1) of alternating DET NOUN VERB words, one token per word, ids by position.</summary>
    static TokenMetadata Stream(int wordsPerDocument, int idBase)
    {
        var tokens = TokenMetadata.Empty(2 * wordsPerDocument);
        for (int i = 0; i < tokens.Count; i++)
        {
            int document = i / wordsPerDocument, within = i % wordsPerDocument;
            short pos = (short)(1 + (within % 3 == 0 ? 3 : within % 3));                          // DET, NOUN, VERB, DET, ...
            tokens.Set(i, idBase + within % 30 + (pos == 2 ? 100 : pos == 3 ? 200 : 300), document, i / 6, (short)document, pos, special: false);
        }
        return tokens;
    }

    [Fact]
    public void Questions_have_an_answer_and_three_distinct_in_vocabulary_distractors_of_its_class()
    {
        TokenMetadata test = Stream(60, 0), train = Stream(300, 0);
        Func<int, bool> inVocabulary = id => id != 101;                                         // one noun the model lacks
        var questions = NextWordQuestions.Build(test, train, Tags, genres: 2, perGenre: 5, context: 8, inVocabulary, Gpt2Tokenizer.EndOfText, seed: 11);

        Assert.Equal(10, questions.Count);
        Assert.Contains(train.TokenIds, id => id == 101);
        foreach (var q in questions)
        {
            Assert.Equal(4, q.Choices.Distinct().Count());
            Assert.All(q.Choices, c => Assert.True(inVocabulary(c)));
            int cls = q.Choices[0] / 100;                                                          // 1 nouns, 2 verbs
            Assert.Contains(cls, new[] { 1, 2 });
            Assert.All(q.Choices, c => Assert.Equal(cls, c / 100));
            Assert.Equal(9, q.Prompt.Count);
            Assert.True(q.Prompt.Special[0]);
            Assert.Equal(Gpt2Tokenizer.EndOfText, q.Prompt.TokenIds[0]);
            Assert.All(Enumerable.Range(0, 9), i => Assert.Equal(q.Genre, q.Prompt.LabelIds[i]));
        }
        var again = NextWordQuestions.Build(test, train, Tags, 2, 5, 8, inVocabulary, Gpt2Tokenizer.EndOfText, seed: 11);
        Assert.Equal(questions.Select(q => string.Join(",", q.Choices)), again.Select(q => string.Join(",", q.Choices)));
        var other = NextWordQuestions.Build(test, train, Tags, 2, 5, 8, inVocabulary, Gpt2Tokenizer.EndOfText, seed: 12);
        Assert.NotEqual(questions.Select(q => string.Join(",", q.Choices)), other.Select(q => string.Join(",", q.Choices)));
    }

    [Fact]
    public void A_token_continuing_a_word_never_starts_one()
    {
        var tokens = TokenMetadata.Empty(4);
        tokens.Set(0, Gpt2Tokenizer.EndOfText, 0, 0, 0, 0, special: true);
        tokens.Set(1, 10, 0, 0, 0, 2, special: false);   // NOUN after a special token: starts a word
        tokens.Set(2, 11, 0, 0, 0, 2, special: false);   // NOUN after NOUN in one sentence: cannot tell, never used
        tokens.Set(3, 12, 0, 0, 0, 3, special: false);   // VERB after NOUN: starts a word
        Assert.Equal([false, true, false, true], Enumerable.Range(0, 4).Select(p => NextWordQuestions.StartsWord(tokens, p)).ToArray());
    }
}
