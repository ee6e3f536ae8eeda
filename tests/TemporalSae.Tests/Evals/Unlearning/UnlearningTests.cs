using TemporalSae.Data;
using TemporalSae.Evals;
using TemporalSae.Evals.Unlearning;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Tokenizers;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Unlearning;

/// <summary>Latent selection, the clamp, question building, the retain bar, the score and the controls, on small hand-made inputs.</summary>
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
        Assert.Equal([2, 1], LatentClamp.Select(forget, retain, retainThreshold: 0.01, count: 2));
        Assert.Equal([0, 2], LatentClamp.Select(forget, retain, retainThreshold: 0.1, count: 2));
    }

    [Fact]
    public void Latents_that_never_fire_on_forget_text_are_never_selected()
    {
        // Only latents 0 and 2 fire on forget text; asking for 10 must give those two, not pad with silent ones.
        double[] forget = [0.3, 0.0, 0.2, 0.0, 0.0];
        double[] retain = [0.0, 0.0, 0.0, 0.0, 0.0];
        Assert.Equal([0, 2], LatentClamp.Select(forget, retain, retainThreshold: 0.001, count: 10));
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static SparseAutoencoder Sae() => SaeRegistry.Default.Create(new SaeConfig { Architecture = "standard", DSae = 16 }, 8, seed: 3);

    static Tensor DecoderNorms(SparseAutoencoder sae) =>
        sae.named_parameters().Single(p => p.name == "W_dec").parameter.detach().norm(1, keepdim: false, p: 2);

    [Fact]
    public void The_clamp_changes_nothing_without_chosen_latents_and_keeps_special_positions()
    {
        using var sae = Sae();
        using var norms = DecoderNorms(sae);
        using var x = randn([2, 5, 8], generator: new TorchSharp.torch.Generator(7)) * 3;
        var special = zeros([2, 5], ScalarType.Bool);
        special[0, 0] = tensor(true);
        var batch = new ActivationBatch(x, zeros([2, 5], ScalarType.Int64), zeros([2, 5], ScalarType.Int64), special);

        using var none = zeros(16, ScalarType.Bool);
        Assert.True(Same(LatentClamp.Apply(sae, norms, batch, new ClampSpec(none, null, 100)), x));

        using var f = sae.Encode(batch);
        using var all = ones(16, ScalarType.Bool);
        using var edited = LatentClamp.Apply(sae, norms, batch, new ClampSpec(all, null, 100));
        Assert.True(f.gt(0).any().item<bool>(), "the test needs some latent to fire");
        Assert.False(Same(edited, x));
        Assert.True(Same(edited[0, 0], x[0, 0]), "a special position keeps its activation");
        // Where nothing fires, nothing is clamped: x' = x exactly at those tokens.
        using var quiet = f.gt(0).any(-1).logical_not();                                       // [2, 5]
        Assert.True(Same(edited[quiet], x[quiet]));
    }

    [Fact]
    public void A_clamped_latent_writes_minus_m_along_its_unit_direction_whatever_its_decoder_norm()
    {
        using var sae = Sae();
        using (no_grad())
        {
            // Give latent 4 a decoder row of norm 7, far from the initialisation's small norm.
            var wDec = sae.named_parameters().Single(p => p.name == "W_dec").parameter;       // [d_sae, d_in]
            wDec[4].mul_(7 / wDec[4].norm().item<float>());
        }
        using var norms = DecoderNorms(sae);
        using var x = randn([1, 64, 8], generator: new TorchSharp.torch.Generator(5)) * 3;
        var batch = new ActivationBatch(x);
        using var f = sae.Encode(batch);
        using var fires = f.select(-1, 4).gt(0);                                               // [1, 64]
        Assert.True(fires.any().item<bool>(), "the test needs latent 4 to fire");
        using var chosen = zeros(16, ScalarType.Bool);
        chosen[4] = tensor(true);
        const double m = 25;
        using var edited = LatentClamp.Apply(sae, norms, batch, new ClampSpec(chosen, null, m));

        // x' - x = (f'_4 - f_4) W_dec,4 where latent 4 fires: adding f_4 W_dec,4 back leaves -m W_dec,4 / ||W_dec,4||.
        using var wDec4 = sae.named_parameters().Single(p => p.name == "W_dec").parameter.detach()[4];
        using var written = (edited - x + f.select(-1, 4).unsqueeze(-1) * wDec4)[fires];      // [n, d]
        using var expected = (-m * wDec4 / wDec4.norm()).expand_as(written);
        float error = (written - expected).abs().max().item<float>();
        Assert.True(error < 1e-3f, $"clamp wrote {written[0].norm().item<float>()} along the row, expected {m}; max error {error}");
    }

    [Fact]
    public void Score_is_one_minus_the_worst_forget_accuracy_that_kept_retain_and_zero_without_one()
    {
        Assert.Equal(0.75, UnlearningEvalStage.Score([(0.25, 0.995), (0.1, 0.98)]), 12);
        Assert.Equal(0, UnlearningEvalStage.Score([(0.1, 0.5)]));
        Assert.Equal(0, UnlearningEvalStage.Score([(1.0, 1.0)]));
    }

    [Fact]
    public void The_retain_bar_tolerates_one_flip_per_hundred_questions_and_the_wilson_interval_is_right()
    {
        Assert.Equal(4, UnlearningEvalStage.FlipsTolerated(400));
        Assert.Equal(2, UnlearningEvalStage.FlipsTolerated(200));
        Assert.Equal(0, UnlearningEvalStage.FlipsTolerated(99));
        // The tolerance is the score's own comparison: 396 of 400 passes the bar, 395 does not.
        Assert.Equal(1 - 0.2, UnlearningEvalStage.Score([(0.2, 396 / 400.0)]), 12);
        Assert.Equal(0, UnlearningEvalStage.Score([(0.2, 395 / 400.0)]));
        // Wilson 95% for 396 of 400 (statsmodels' proportion_confint(396, 400, method="wilson")): 0.974573 to 0.996105.
        (double low, double high) = UnlearningEvalStage.Wilson(396, 400);
        Assert.Equal(0.974573, low, 5);
        Assert.Equal(0.996105, high, 5);
        (low, high) = UnlearningEvalStage.Wilson(400, 400);
        Assert.Equal(1.0, high, 12);
        Assert.InRange(low, 0.990, 0.991);
    }

    // Token text of the synthetic streams: forget words 100-109, retain words 200-209, common words 300-309 (all with a
    // leading space), a comma 50, and a suffix 400 that continues the word before it.
    static string Text(int id) => id switch
    {
        50 => ",",
        400 => "ing",
        _ => $" w{id}",
    };

    /// <summary>
    /// An untagged stream of <paramref name="documents"/> documents per side (label 0 forget, label 1 retain), each of
    /// <paramref name="words"/> tokens: the side's own words and common words in turn, a comma every 5th token,
    /// the suffix at every 7th unless a comma precedes it.
    /// </summary>
    static TokenMetadata Stream(int documents, int words, int salt)
    {
        var tokens = TokenMetadata.Empty(2 * documents * words);
        var random = new SplitMix64((ulong)salt);
        for (int i = 0; i < tokens.Count; i++)
        {
            int document = i / words, within = i % words;
            short label = (short)(document < documents ? 0 : 1);
            int id = within % 5 == 4 ? 50
                : within % 7 == 6 && within % 5 != 0 ? 400
                : within % 2 == 0 ? (label == 0 ? 100 : 200) + (int)random.NextBelow(10)
                : 300 + (int)random.NextBelow(10);
            tokens.Set(i, id, document, i / 20, label, TokenizedCorpus.AbsentPos, special: false);
        }
        return tokens;
    }

    [Fact]
    public void Untagged_words_start_at_a_leading_space_and_punctuation_but_not_at_a_suffix()
    {
        var shapes = new TokenShapes(Text);
        var tokens = TokenMetadata.Empty(5);
        tokens.Set(0, Gpt2Tokenizer.EndOfText, 0, 0, 0, TokenizedCorpus.NoPos, special: true);
        tokens.Set(1, 100, 0, 0, 0, TokenizedCorpus.AbsentPos, special: false);   // after a special token
        tokens.Set(2, 400, 0, 0, 0, TokenizedCorpus.AbsentPos, special: false);   // "ing": continues " w100"
        tokens.Set(3, 50, 0, 0, 0, TokenizedCorpus.AbsentPos, special: false);    // "," its own (non-lexical) word
        tokens.Set(4, 300, 0, 0, 0, TokenizedCorpus.AbsentPos, special: false);   // leading space
        Assert.Equal([false, true, false, true, true], Enumerable.Range(0, 5).Select(p => NextWordQuestions.StartsWord(tokens, shapes, p)).ToArray());
        Assert.Equal([(1, 3), (4, 5)], NextWordQuestions.Words(tokens, shapes).ToArray());
    }

    [Fact]
    public void Forget_answers_are_forget_specific_words_with_distractors_of_their_frequency_class_spread_over_documents()
    {
        var shapes = new TokenShapes(Text);
        TokenMetadata test = Stream(6, 200, 1), train = Stream(20, 400, 2);
        bool InForget(int label) => label == 0;
        bool InRetain(int label) => label == 1;
        Func<int, bool> inVocabulary = id => id != 105;                                         // one forget word the model lacks
        QuestionSet set = NextWordQuestions.Build(test, train, shapes, InForget, InRetain, forgetCount: 60, retainCount: 90,
            context: 8, minLogOdds: 2.0, inVocabulary, Gpt2Tokenizer.EndOfText, seed: 11);
        var odds = new WordOdds(train, shapes, InForget, InRetain);

        Assert.Equal(60, set.Forget.Count);
        Assert.Equal(90, set.Retain.Count);
        Assert.Equal(6, set.ForgetTestDocuments);
        foreach (var q in set.Forget)
        {
            Assert.InRange(q.Choices[0], 100, 109);
            Assert.NotEqual(105, q.Choices[0]);
            Assert.True(odds.LogOdds((ulong)q.Choices[0]) >= 2.0);
            Assert.Equal(0, q.Label);
        }
        // Retain answers are any words that are not forget-specific: retain words and common ones, never a forget word.
        Assert.All(set.Retain, q => Assert.True(q.Choices[0] is >= 200 and <= 209 or >= 300 and <= 309, $"retain answer {q.Choices[0]}"));
        Assert.Contains(set.Retain, q => q.Choices[0] >= 300);
        foreach (var q in set.Forget.Concat(set.Retain))
        {
            Assert.Equal(4, q.Choices.Distinct().Count());
            Assert.DoesNotContain(50, q.Choices);                                               // punctuation never a choice
            Assert.DoesNotContain(400, q.Choices);
            Assert.All(q.Choices, c => Assert.True(inVocabulary(c)));
            Assert.All(q.Choices, c => Assert.Equal(odds.FrequencyClass((ulong)q.Choices[0]), odds.FrequencyClass((ulong)c)));
            Assert.Equal(9, q.Prompt.Count);
            Assert.True(q.Prompt.Special[0]);
            Assert.All(Enumerable.Range(1, 8), i => Assert.Equal(q.Document, q.Prompt.DocumentIds[i]));
        }
        // Dealt across documents: 60 forget questions from 6 documents are 10 from each.
        Assert.All(set.Forget.GroupBy(q => q.Document), g => Assert.Equal(10, g.Count()));

        var again = NextWordQuestions.Build(test, train, shapes, InForget, InRetain, 60, 90, 8, 2.0, inVocabulary, Gpt2Tokenizer.EndOfText, seed: 11);
        Assert.Equal(set.Forget.Select(q => string.Join(",", q.Choices)), again.Forget.Select(q => string.Join(",", q.Choices)));
    }

    [Fact]
    public void Log_odds_are_add_one_smoothed_forget_versus_retain_frequencies()
    {
        var shapes = new TokenShapes(Text);
        var train = TokenMetadata.Empty(6);
        int[] ids = [100, 100, 300, 200, 300, 300];
        for (int i = 0; i < 6; i++) train.Set(i, ids[i], i / 3, 0, (short)(i / 3), TokenizedCorpus.AbsentPos, special: false);
        var odds = new WordOdds(train, shapes, l => l == 0, l => l == 1);
        // Forget: w100 x2, w300 x1 (N_F = 3); retain: w200 x1, w300 x2 (N_R = 3); V = 3 distinct words.
        Assert.Equal(3, odds.Vocabulary);
        Assert.Equal(Math.Log(3.0 / 6) - Math.Log(1.0 / 6), odds.LogOdds(100), 12);
        Assert.Equal(Math.Log(2.0 / 6) - Math.Log(3.0 / 6), odds.LogOdds(300), 12);
    }

    /// <summary>
    /// A synthetic subject: each question is one activation x [d] read out by its four choices' vectors; the answer
    /// wins when its readout is the largest. Forget knowledge lives along e0, retain knowledge along e1, with shared
    /// noise in the other dimensions.
    /// </summary>
    sealed class SyntheticKnowledge : IDisposable
    {
        const int D = 16, Questions = 200;

        public SyntheticKnowledge()
        {
            var generator = new TorchSharp.torch.Generator(13);
            Tensor Noise(long n) => cat([zeros(n, 2), randn([n, D - 2], generator: generator)], 1);
            Forget = (Noise(Questions) + 3 * eye(D)[0]).unsqueeze(1);                          // [Q, 1, d]
            Retain = (Noise(Questions) + 3 * eye(D)[1]).unsqueeze(1);
            // Answer readout along the side's direction, distractors along three noise dimensions.
            ForgetReadout = stack([eye(D)[0], eye(D)[3] * 0.1, eye(D)[4] * 0.1, eye(D)[5] * 0.1]);   // [4, d]
            RetainReadout = stack([eye(D)[1], eye(D)[3] * 0.1, eye(D)[4] * 0.1, eye(D)[5] * 0.1]);
        }

        public Tensor Forget { get; }
        public Tensor Retain { get; }
        public Tensor ForgetReadout { get; }
        public Tensor RetainReadout { get; }

        public static double Accuracy(Tensor x, Tensor readout) =>
            matmul(x.squeeze(1), readout.t()).argmax(-1).eq(0).to_type(ScalarType.Float64).mean().item<double>();

        /// <summary>Forget and retain accuracy with a clamp, for each multiplier, as the stage scores them.</summary>
        public List<(double Forget, double Retain)> Sweep(SparseAutoencoder sae, Tensor norms, PlantedLatent planted)
        {
            var settings = new List<(double, double)>();
            foreach (double m in new[] { 25.0, 50, 100, 200 })
            {
                using var scope = NewDisposeScope();
                var clamp = new ClampSpec(null, planted, m);
                settings.Add((Accuracy(LatentClamp.Apply(sae, norms, new ActivationBatch(Forget), clamp), ForgetReadout),
                    Accuracy(LatentClamp.Apply(sae, norms, new ActivationBatch(Retain), clamp), RetainReadout)));
            }
            return settings;
        }

        public void Dispose()
        {
            Forget.Dispose();
            Retain.Dispose();
            ForgetReadout.Dispose();
            RetainReadout.Dispose();
        }
    }

    [Fact]
    public void The_positive_control_scores_high_when_forget_knowledge_is_isolated_and_a_random_latent_scores_low()
    {
        using var world = new SyntheticKnowledge();
        using var sae = SaeRegistry.Default.Create(new SaeConfig { Architecture = "standard", DSae = 32 }, 16, seed: 3);
        using var norms = DecoderNorms(sae);
        Assert.Equal(1.0, SyntheticKnowledge.Accuracy(world.Forget, world.ForgetReadout));
        Assert.Equal(1.0, SyntheticKnowledge.Accuracy(world.Retain, world.RetainReadout));
        using var forgetMean = world.Forget.mean([0, 1]);
        using var retainMean = world.Retain.mean([0, 1]);
        using var retainSample = world.Retain.squeeze(1);

        using (var planted = PlantedLatent.FromMeans(forgetMean, retainMean, retainSample, 0.01))
        {
            var settings = world.Sweep(sae, norms, planted);
            Assert.All(settings, s => Assert.Equal(1.0, s.Retain));
            double score = UnlearningEvalStage.Score(settings);
            Assert.True(score >= 0.95, $"positive control scored {score}: {string.Join(", ", settings)}");
        }
        foreach (long seed in new long[] { 1, 2, 3 })
        {
            using var random = PlantedLatent.Random(forgetMean, retainMean, retainSample, 0.01, seed);
            using (var firesOnRetain = random.Encode(world.Retain).gt(0).to_type(ScalarType.Float64).mean())
                Assert.True(firesOnRetain.item<double>() <= 0.01, "a control latent fires on at most the loosest retain threshold's share of retain tokens");
            var settings = world.Sweep(sae, norms, random);
            double score = UnlearningEvalStage.Score(settings);
            Assert.True(score <= 0.2, $"random control (seed {seed}) scored {score}: {string.Join(", ", settings)}");
        }
    }

    /// <summary>Four labels of three sources and no documents: all that resolving the forget and retain keys reads.</summary>
    static TokenizedCorpus Corpus() => new("key", ["brown", "sotu", "moby_dick"], ["news", "fiction", "whig", "moby_dick"], [0, 0, 1, 2],
        ["none", "absent"], [], TokenMetadata.Empty(0));

    [Fact]
    public void Forget_and_retain_name_sources_or_labels_and_clash_clearly()
    {
        TokenizedCorpus corpus = Corpus();
        int Label(string name) => corpus.Labels.ToList().IndexOf(name);
        var (forget, retain) = UnlearningEvalStage.Sides(new UnlearningEvalConfig(), corpus);
        Assert.Equal([Label("moby_dick")], forget.Order());
        Assert.Equal(new[] { Label("news"), Label("fiction"), Label("whig") }.Order(), retain.Order());

        (forget, retain) = UnlearningEvalStage.Sides(new UnlearningEvalConfig { Forget = "brown", Retain = ["sotu"] }, corpus);
        Assert.Equal(new[] { Label("news"), Label("fiction") }.Order(), forget.Order());
        Assert.Equal([Label("whig")], retain.Order());

        var clash = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() =>
            UnlearningEvalStage.Sides(new UnlearningEvalConfig { Forget = "brown", Retain = ["news", "sotu"] }, corpus));
        Assert.Contains("evals.unlearning.retain", clash.Message);
        var unknown = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() =>
            UnlearningEvalStage.Sides(new UnlearningEvalConfig { Forget = "science_fiktion" }, corpus));
        Assert.Contains("evals.unlearning.forget", unknown.Message);
        Assert.Contains("moby_dick", unknown.Message);
    }

    [Fact]
    public void Side_texts_come_in_the_stratified_order_across_documents_not_as_a_splits_first_windows()
    {
        // Label 0 (4 documents of 45 tokens, 3 windows of 15 + <|endoftext|> each), then label 1 (4 more documents).
        var stream = TokenMetadata.Empty(8 * 45);
        for (int i = 0; i < stream.Count; i++)
            stream.Set(i, 300 + i % 10, i / 45, i / 15, (short)(i / 180), TokenizedCorpus.AbsentPos, special: false);
        ContextWindows windows = ContextWindows.Cut(stream, 16, Gpt2Tokenizer.EndOfText);
        // Two windows' worth of label-0 tokens: from two documents, and never a label-1 window.
        EvalWindows chosen = UnlearningEvalStage.SideWindows(windows, label => label == 0, budget: 30, seed: 5);
        Assert.Equal(2, chosen.Count);
        Assert.Equal(2, Enumerable.Range(0, chosen.Count).Select(w => chosen.Tokens.DocumentIds[w * 16 + 1]).Distinct().Count());
        Assert.All(Enumerable.Range(0, chosen.Tokens.Count), i => Assert.Equal(0, chosen.Tokens.LabelIds[i]));
        EvalWindows retain = UnlearningEvalStage.SideWindows(windows, label => label == 1, budget: 1000, seed: 5);
        Assert.Equal(12, retain.Count);
        Assert.All(Enumerable.Range(0, retain.Tokens.Count), i => Assert.Equal(1, retain.Tokens.LabelIds[i]));
    }
}
