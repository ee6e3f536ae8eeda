// Knowledge isolation, following SAEBench's unlearning on open data: a forget set (a source or a label, Moby-Dick by
// default) against retain text (everything else). Latents that fire on forget text (validation split) but rarely on
// retain text are clamped where they fire (LatentClamp), for every retain threshold, latent count and multiplier; what
// changes is measured on four-choice next-word questions from held-out documents whose forget answers are words
// specific to the forget set (NextWordQuestions), counting only questions the unmodified model answers, and as the
// cross-entropy increase on held-out forget and retain text. Every text it reads comes in WindowSampling's
// stratified order. Two controls run through the same clamp: a planted latent along the forget-minus-retain mean
// activation (it should score high) and one along a random direction (it should not).
// unlearning_score = 1 - min forget accuracy over settings whose retain accuracy stays >= 0.99 (accuracies are
// relative to the unmodified model, which answers every kept question, so the original is 1).
using System.Globalization;
using System.Text.Json.Nodes;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Results;
using TemporalSae.Tokenizers;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Unlearning;

public sealed class UnlearningEvalStage : EvalStage
{
    public override string Name => "unlearning";
    public override int Version => 3;

    /// <summary>The questions, kept with the artifact: one JSON line each (side, label, prompt ids, choices, log-odds, answered clean).</summary>
    public const string QuestionsFile = "questions.jsonl";

    /// <summary>SAEBench's bar: a setting counts only if retain accuracy stays at this fraction of the original.</summary>
    public const double RetainBar = 0.99;

    /// <summary>What the random control's direction derives from, beside the stage's seed.</summary>
    const string RandomControlSeedName = "random_control";

    public override JsonObject Build(StageContext context, string folder)
    {
        UnlearningEvalConfig config = context.Config.Evals.Unlearning;
        int contextSize = context.Config.Data.ContextSize;
        using var inputs = EvalInputs.Open(context);
        TokenizedCorpus corpus = inputs.Data.Corpus;
        (HashSet<int> forget, HashSet<int> retain) = Sides(config, corpus);
        bool InForget(int label) => forget.Contains(label);
        bool InRetain(int label) => retain.Contains(label);

        ITextTokenizer tokenizer = CorpusTokenizer.Resolve(context.Config, context.Environment)
            .Load(DataFiles.Resolve(context.Config.Data, context.Environment.CacheRoot), context.Config.Data.BpeVocab);
        var shapes = new TokenShapes(tokenizer.TokenText);
        QuestionSet built = NextWordQuestions.Build(inputs.Data.Stream(Split.Test), inputs.Data.Stream(Split.Train), shapes, InForget, InRetain,
            config.ForgetQuestions, config.RetainQuestions, config.QuestionContext, config.MinLogOdds, InVocabulary(inputs.Subject), corpus.BosId, context.Seed);
        CheckEnough(config, built);

        bool[] forgetAnswered = Answers(inputs, built.Forget, config.BatchSize, clamp: null);
        bool[] retainAnswered = Answers(inputs, built.Retain, config.BatchSize, clamp: null);
        AtomicFile.WriteAllText(Path.Combine(folder, QuestionsFile), string.Concat(
            built.Forget.Select((q, i) => QuestionLine(q, "forget", forgetAnswered[i], corpus))
                .Concat(built.Retain.Select((q, i) => QuestionLine(q, "retain", retainAnswered[i], corpus)))));
        var forgetQuestions = built.Forget.Where((_, i) => forgetAnswered[i]).ToList();
        var retainQuestions = built.Retain.Where((_, i) => retainAnswered[i]).ToList();

        var summary = new JsonObject
        {
            ["forget"] = config.Forget,
            ["forget_labels"] = Names(forget, corpus),
            ["retain_labels"] = Names(retain, corpus),
            ["questions"] = new JsonObject
            {
                ["forget"] = SideCounts(built.Forget, built.ForgetCandidates, forgetQuestions.Count),
                ["retain"] = SideCounts(built.Retain, built.RetainCandidates, retainQuestions.Count),
                ["forget_test_documents"] = built.ForgetTestDocuments,
                ["min_log_odds"] = config.MinLogOdds,
            },
            ["retain_bar"] = RetainBarSummary(retainQuestions.Count),
        };
        if (forgetQuestions.Count == 0 || retainQuestions.Count == 0)
        {
            summary["unlearning"] = new JsonObject { ["unlearning_score"] = null };
            summary["not_scored"] = "the unmodified model answers no forget or no retain question, so nothing can be unlearned";
            return summary;
        }

        ContextWindows validation = inputs.Data.Windows(Split.Val, contextSize), test = inputs.Data.Windows(Split.Test, contextSize);
        using SideStatistics forgetStats = Statistics(inputs, SideWindows(validation, InForget, config.SparsityTokens, inputs.WindowSeed), InForget, config.BatchSize);
        using SideStatistics retainStats = Statistics(inputs, SideWindows(validation, InRetain, config.SparsityTokens, inputs.WindowSeed), InRetain, config.BatchSize,
            keepSample: true);
        EvalWindows forgetText = SideWindows(test, InForget, config.CrossEntropyTokens, inputs.WindowSeed);
        EvalWindows retainText = SideWindows(test, InRetain, config.CrossEntropyTokens, inputs.WindowSeed);
        double forgetCe = CrossEntropy(inputs, forgetText, InForget, config.BatchSize, clamp: null);
        double retainCe = CrossEntropy(inputs, retainText, InRetain, config.BatchSize, clamp: null);

        // One setting: accuracies on the kept questions and the cross-entropy increase on each side's text.
        JsonObject Measure(ClampSpec clamp, List<(double Forget, double Retain)> scored)
        {
            double forgetAccuracy = Accuracy(Answers(inputs, forgetQuestions, config.BatchSize, clamp));
            bool[] retained = Answers(inputs, retainQuestions, config.BatchSize, clamp);
            double retainAccuracy = Accuracy(retained);
            scored.Add((forgetAccuracy, retainAccuracy));
            (double low, double high) = Wilson(retained.Count(a => a), retained.Length);
            return new JsonObject
            {
                ["multiplier"] = clamp.Multiplier,
                ["forget_accuracy"] = forgetAccuracy,
                ["retain_accuracy"] = retainAccuracy,
                ["retain_accuracy_wilson95"] = new JsonArray(low, high),
                ["retain_flips"] = retained.Count(a => !a),
                ["forget_ce_increase"] = CrossEntropy(inputs, forgetText, InForget, config.BatchSize, clamp) - forgetCe,
                ["retain_ce_increase"] = CrossEntropy(inputs, retainText, InRetain, config.BatchSize, clamp) - retainCe,
            };
        }

        var settings = new JsonArray();
        var selected = new JsonObject();
        var scoredSettings = new List<(double Forget, double Retain)>();
        foreach (double threshold in config.RetainThresholds)
        {
            int[] ranked = LatentClamp.Select(forgetStats.FiringRates, retainStats.FiringRates, threshold, config.FeatureCounts.Max());
            selected[threshold.ToString("R", CultureInfo.InvariantCulture)] = new JsonArray(ranked.Select(i => (JsonNode)i).ToArray());
            foreach (int count in config.FeatureCounts)
            {
                int[] chosenIds = ranked.Take(count).ToArray();
                foreach (double multiplier in config.Multipliers)
                {
                    JsonObject setting;
                    if (chosenIds.Length == 0)
                    {
                        // Nothing qualifies: the model is unchanged, so every kept question is still answered.
                        scoredSettings.Add((1, 1));
                        (double low, double high) = Wilson(retainQuestions.Count, retainQuestions.Count);
                        setting = new JsonObject
                        {
                            ["multiplier"] = multiplier,
                            ["forget_accuracy"] = 1.0,
                            ["retain_accuracy"] = 1.0,
                            ["retain_accuracy_wilson95"] = new JsonArray(low, high),
                            ["retain_flips"] = 0,
                            ["forget_ce_increase"] = 0.0,
                            ["retain_ce_increase"] = 0.0,
                        };
                    }
                    else
                    {
                        using var chosen = zeros(inputs.Sae.DSae, ScalarType.Bool);
                        using var index = tensor(chosenIds.Select(i => (long)i).ToArray(), ScalarType.Int64);
                        chosen.index_fill_(0, index, true);
                        setting = Measure(new ClampSpec(chosen, null, multiplier), scoredSettings);
                    }
                    var row = new JsonObject { ["retain_threshold"] = threshold, ["n_features"] = count, ["n_selected"] = chosenIds.Length };
                    foreach (var (key, value) in setting) row[key] = value?.DeepClone();
                    settings.Add(row);
                }
            }
        }
        summary["unlearning"] = new JsonObject { ["unlearning_score"] = Score(scoredSettings) };
        summary["cross_entropy_clean"] = new JsonObject { ["forget"] = forgetCe, ["retain"] = retainCe };
        summary["settings"] = settings;
        summary["selected_latents"] = selected;

        Tensor forgetMean = forgetStats.MeanActivation, retainMean = retainStats.MeanActivation, retainSample = retainStats.Sample!;
        // The controls may fire on as much retain text as the loosest threshold lets an SAE latent fire on.
        double retainRate = config.RetainThresholds.Max();
        JsonObject Control(PlantedLatent planted, string direction)
        {
            var scored = new List<(double Forget, double Retain)>();
            var rows = new JsonArray();
            foreach (double multiplier in config.Multipliers) rows.Add(Measure(new ClampSpec(null, planted, multiplier), scored));
            return new JsonObject
            {
                ["direction"] = direction,
                ["decoder_norm"] = planted.DecoderNorm,
                ["threshold"] = planted.Threshold,
                ["forget_firing_rate"] = FiringRate(inputs, planted, forgetStats.Windows, InForget, config.BatchSize),
                ["retain_firing_rate"] = FiringRate(inputs, planted, retainStats.Windows, InRetain, config.BatchSize),
                ["unlearning_score"] = Score(scored),
                ["settings"] = rows,
            };
        }
        using (var planted = PlantedLatent.FromMeans(forgetMean, retainMean, retainSample, retainRate))
            summary["positive_control"] = Control(planted, "forget mean activation minus retain mean activation (validation split)");
        using (var random = PlantedLatent.Random(forgetMean, retainMean, retainSample, retainRate, ContentHash.DeriveSeed(context.Seed, RandomControlSeedName)))
            summary["random_control"] = Control(random, "a seeded random direction with the same decoder norm");
        return summary;
    }

    /// <summary>1 - the lowest forget accuracy among settings that keep retain accuracy; 0 when no setting does.</summary>
    public static double Score(IEnumerable<(double Forget, double Retain)> settings)
    {
        double? min = null;
        foreach (var s in settings)
            if (s.Retain >= RetainBar) min = Math.Min(min ?? 1, s.Forget);
        return min is { } m ? 1 - m : 0;
    }

    /// <summary>How many of n kept retain questions may flip before a setting fails the bar (4 of 400, 0 of 99).</summary>
    public static int FlipsTolerated(int n)
    {
        int flips = 0;
        // The same comparison the score makes, so the stated tolerance is the applied one.
        while (flips < n && (double)(n - flips - 1) / n >= RetainBar) flips++;
        return flips;
    }

    /// <summary>Wilson score interval (95%) for k successes in n trials.</summary>
    public static (double Low, double High) Wilson(int k, int n)
    {
        if (n == 0) return (0, 1);
        const double z = 1.959963984540054;
        double p = (double)k / n, denominator = 1 + z * z / n;
        double centre = (p + z * z / (2 * n)) / denominator;
        double half = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denominator;
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    static JsonObject RetainBarSummary(int kept)
    {
        (double low, double high) = Wilson(kept, kept);
        return new JsonObject
        {
            ["bar"] = RetainBar,
            ["retain_questions"] = kept,
            ["flips_tolerated"] = FlipsTolerated(kept),
            // The interval a setting that flips nothing still carries: how far 1.0 on this many questions is from certain.
            ["wilson95_at_no_flips"] = new JsonArray(low, high),
        };
    }

    static double Accuracy(bool[] answered) => answered.Length == 0 ? 0 : answered.Average(a => a ? 1.0 : 0.0);

    static JsonObject SideCounts(IReadOnlyList<NextWordQuestion> built, int candidates, int answered) => new()
    {
        ["candidates"] = candidates,
        ["built"] = built.Count,
        ["documents"] = built.Select(q => q.Document).Distinct().Count(),
        ["mean_log_odds"] = built.Count == 0 ? 0 : built.Average(q => q.LogOdds),
        ["answered_clean"] = answered,
    };

    static string QuestionLine(NextWordQuestion q, string side, bool answered, TokenizedCorpus corpus) => ResultJson.SerializeLine(new JsonObject
    {
        ["side"] = side,
        ["label"] = corpus.Labels[q.Label],
        ["document"] = corpus.Documents[q.Document].Name,
        ["prompt"] = new JsonArray(q.Prompt.TokenIds.Select(id => (JsonNode)id).ToArray()),
        ["choices"] = new JsonArray(q.Choices.Select(id => (JsonNode)id).ToArray()),
        ["log_odds"] = q.LogOdds,
        ["answered_clean"] = answered,
    }) + "\n";

    static JsonArray Names(HashSet<int> labels, TokenizedCorpus corpus) => new(labels.Order().Select(l => (JsonNode)corpus.Labels[l]).ToArray());

    static void CheckEnough(UnlearningEvalConfig config, QuestionSet built)
    {
        if (built.ForgetTestDocuments < config.MinTestDocuments)
            throw new InvalidInputException(
                $"evals.unlearning.forget: '{config.Forget}' has {built.ForgetTestDocuments} test-split document(s), fewer than " +
                $"evals.unlearning.min_test_documents ({config.MinTestDocuments}); questions from so few texts measure those texts, not the forget set. " +
                "Choose a larger forget set (a source such as moby_dick or sotu, or a genre with more documents).");
        foreach ((string side, int count, string cap) in new[] { ("forget", built.Forget.Count, "forget_questions"), ("retain", built.Retain.Count, "retain_questions") })
            if (count < config.MinQuestions)
                throw new InvalidInputException(
                    $"evals.unlearning.min_questions: only {count} {side} question(s) could be built, fewer than {config.MinQuestions}; " +
                    $"an accuracy on so few cannot tell a real drop from noise. Raise evals.unlearning.{cap}" +
                    (side == "forget" ? ", lower evals.unlearning.min_log_odds (fewer words count as forget-specific at a higher bar)," : ",") +
                    " or choose a larger forget or retain set (evals.unlearning.forget, evals.unlearning.retain).");
    }

    /// <summary>Labels named by the manifest's forget and retain keys (a source name stands for all its labels).</summary>
    public static (HashSet<int> Forget, HashSet<int> Retain) Sides(UnlearningEvalConfig config, TokenizedCorpus corpus)
    {
        HashSet<int> forget = LabelsOf("evals.unlearning.forget", config.Forget, corpus);
        HashSet<int> retain = config.Retain.Count == 0
            ? Enumerable.Range(0, corpus.Labels.Count).Where(l => !forget.Contains(l)).ToHashSet()
            : config.Retain.SelectMany(name => LabelsOf("evals.unlearning.retain", name, corpus)).ToHashSet();
        if (retain.Overlaps(forget))
            throw new InvalidInputException(
                $"evals.unlearning.retain: {string.Join(", ", retain.Intersect(forget).Order().Select(l => corpus.Labels[l]))} is also in the forget set " +
                $"('{config.Forget}'); a label cannot be both forgotten and retained. Leave it out of evals.unlearning.retain (or leave retain empty: everything else).");
        if (retain.Count == 0)
            throw new InvalidInputException(
                $"evals.unlearning.retain: nothing is left to retain once '{config.Forget}' is forgotten (data.sources: {string.Join(", ", corpus.Sources)}); " +
                "add a source to data.sources or forget a smaller set.");
        return (forget, retain);
    }

    static HashSet<int> LabelsOf(string key, string name, TokenizedCorpus corpus)
    {
        int source = corpus.Sources.ToList().IndexOf(name);
        if (source >= 0) return Enumerable.Range(0, corpus.Labels.Count).Where(l => corpus.LabelSources[l] == source).ToHashSet();
        int label = corpus.Labels.ToList().IndexOf(name);
        if (label >= 0) return [label];
        throw new InvalidInputException(
            $"{key}: '{name}' is neither a source of this run's data ({string.Join(", ", corpus.Sources)}) nor one of its labels " +
            $"({string.Join(", ", corpus.Labels)}); name one of those.");
    }

    static Func<int, bool> InVocabulary(LoadedSubjectModel subject)
    {
        if (subject.Vocab is null) return id => id < subject.Model.VocabSize;
        var known = subject.Vocab.Gpt2Ids.ToHashSet();
        return id => known.Contains(id);
    }

    /// <summary>
    /// Windows of a split whose first content token is on the side, in WindowSampling's stratified order, until they
    /// hold <paramref name="budget"/> of the side's non-special tokens.
    /// </summary>
    public static EvalWindows SideWindows(ContextWindows windows, Func<int, bool> inSide, long budget, long seed)
    {
        var picked = new List<int>();
        long tokens = 0;
        foreach (int w in WindowSampling.StratifiedOrder(windows, seed, inSide))
        {
            if (tokens >= budget) break;
            int inWindow = 0;
            for (int i = w * windows.ContextSize; i < (w + 1) * windows.ContextSize; i++)
                if (!windows.Tokens.Special[i] && inSide(windows.Tokens.LabelIds[i])) inWindow++;
            if (inWindow == 0) continue;
            picked.Add(w);
            tokens += inWindow;
        }
        return EvalWindows.Of(windows, picked);
    }

    /// <summary>[B, T] bool: non-special tokens whose label is on the side.</summary>
    static Tensor SideMask(EvalBatch batch, Func<int, bool> inSide) =>
        tensor(batch.Tokens.LabelIds.Select((g, i) => !batch.Tokens.Special[i] && inSide(g)).ToArray(), batch.Special.shape);

    /// <param name="FiringRates">Per latent, the fraction of the side's tokens where its scaled value is positive.</param>
    /// <param name="MeanActivation">The side's mean activation at the hook [d].</param>
    /// <param name="Sample">The side's activations [N, d] when asked for, else null.</param>
    sealed record SideStatistics(EvalWindows Windows, double[] FiringRates, Tensor MeanActivation, Tensor? Sample) : IDisposable
    {
        public void Dispose()
        {
            MeanActivation.Dispose();
            Sample?.Dispose();
        }
    }

    static SideStatistics Statistics(EvalInputs inputs, EvalWindows windows, Func<int, bool> inSide, int batchSize, bool keepSample = false)
    {
        using var fired = zeros(inputs.Sae.DSae, ScalarType.Float64);
        Tensor? sum = null;
        var sample = new List<Tensor>();
        long tokens = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(batchSize))
            {
                using var scope = NewDisposeScope();
                Tensor x = inputs.HookActivations(batch.TokenIds);                                   // [B, T, d]
                Tensor scaled = inputs.ScaledFeatures(batch.Activations(x));                        // [B, T, d_sae]
                Tensor side = SideMask(batch, inSide);                                             // [B, T]
                fired.add_(scaled.gt(0).logical_and(side.unsqueeze(-1)).sum([0, 1]).to_type(ScalarType.Float64));
                Tensor batchSum = x.to_type(ScalarType.Float64).mul(side.unsqueeze(-1)).sum([0, 1]);   // [d]
                if (sum is null) sum = batchSum.DetachFromDisposeScope();
                else sum.add_(batchSum);
                if (keepSample) sample.Add(x[side].DetachFromDisposeScope());                       // [n, d]
                tokens += side.sum().item<long>();
            }
        }
        using Tensor total = sum ?? zeros(inputs.Sae.DIn, ScalarType.Float64);
        Tensor? kept = keepSample ? (sample.Count == 0 ? zeros(0, inputs.Sae.DIn) : cat(sample, 0)) : null;
        foreach (Tensor t in sample) t.Dispose();
        return new SideStatistics(windows, (fired / Math.Max(tokens, 1)).data<double>().ToArray(), (total / Math.Max(tokens, 1)).to_type(ScalarType.Float32), kept);
    }

    /// <summary>The fraction of the side's tokens where a planted latent fires.</summary>
    static double FiringRate(EvalInputs inputs, PlantedLatent planted, EvalWindows windows, Func<int, bool> inSide, int batchSize)
    {
        long fired = 0, tokens = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(batchSize))
            {
                using var scope = NewDisposeScope();
                Tensor side = SideMask(batch, inSide);
                fired += planted.Encode(inputs.HookActivations(batch.TokenIds)).gt(0).logical_and(side).sum().item<long>();
                tokens += side.sum().item<long>();
            }
        }
        return tokens == 0 ? 0 : (double)fired / tokens;
    }

    /// <summary>Mean next-token cross-entropy over positions whose input token is on the side, with the clamp if given.</summary>
    static double CrossEntropy(EvalInputs inputs, EvalWindows windows, Func<int, bool> inSide, int batchSize, ClampSpec? clamp)
    {
        double sum = 0;
        long count = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(batchSize))
            {
                using var scope = NewDisposeScope();
                Tensor ids = inputs.Subject.ToModelIds(batch.TokenIds);
                Tensor logits = Logits(inputs, batch, ids, clamp);                                 // [B, T, V]
                long t = ids.shape[1];
                Tensor logProbs = logits.narrow(1, 0, t - 1).log_softmax(-1);                      // [B, T-1, V]
                Tensor nll = logProbs.gather(-1, ids.narrow(1, 1, t - 1).unsqueeze(-1)).squeeze(-1).neg();   // [B, T-1]
                Tensor keep = SideMask(batch, inSide).narrow(1, 0, t - 1);
                sum += nll.masked_select(keep).to_type(ScalarType.Float64).sum().item<double>();
                count += keep.sum().item<long>();
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>Whether the model ranks each question's answer above its three distractors.</summary>
    static bool[] Answers(EvalInputs inputs, IReadOnlyList<NextWordQuestion> questions, int batchSize, ClampSpec? clamp)
    {
        var answers = new bool[questions.Count];
        if (questions.Count == 0) return answers;
        int length = questions[0].Prompt.Count;
        using (no_grad())
        {
            for (int start = 0; start < questions.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var group = questions.Skip(start).Take(batchSize).ToList();
                var prompts = TokenMetadata.Empty(group.Count * length);
                for (int q = 0; q < group.Count; q++) group[q].Prompt.CopyTo(0, prompts, q * length, length);
                var batch = new EvalBatch(prompts, group.Count, length);
                Tensor ids = inputs.Subject.ToModelIds(batch.TokenIds);
                Tensor last = Logits(inputs, batch, ids, clamp).select(1, length - 1);           // [Q, V]
                Tensor choices = inputs.Subject.ToModelIds(tensor(group.SelectMany(q => q.Choices.Select(c => (long)c)).ToArray(), [group.Count, 4]));
                long[] best = last.gather(-1, choices).argmax(-1).data<long>().ToArray();        // [Q]: 0 is the answer
                for (int q = 0; q < group.Count; q++) answers[start + q] = best[q] == 0;
            }
        }
        return answers;
    }

    static Tensor Logits(EvalInputs inputs, EvalBatch batch, Tensor ids, ClampSpec? clamp) => clamp is { } c
        ? inputs.Subject.Model.Forward(ids, new ResidHook(inputs.Layer, Replace: x => LatentClamp.Apply(inputs.Sae, inputs.Latents.DecoderNorms, batch.Activations(x), c))).Logits!
        : inputs.Subject.Model.Forward(ids).Logits!;
}
