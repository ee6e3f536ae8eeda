// Knowledge isolation, following SAEBench's unlearning on open data: a forget genre against retain genres. Latents
// that fire often on forget text (validation split) but rarely on retain text are clamped to -m where they fire
// (LatentClamp), for every retain threshold, latent count and multiplier; what changes is measured on four-choice
// next-word questions from held-out text (NextWordQuestions), counting only questions the unmodified model answers,
// and as the cross-entropy increase on held-out forget and retain text.
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
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Unlearning;

public sealed class UnlearningEvalStage : EvalStage
{
    public override string Name => "unlearning";
    public override int Version => 2;

    /// <summary>The questions, kept with the artifact: one JSON line each (genre, prompt ids, choices, answered clean).</summary>
    public const string QuestionsFile = "questions.jsonl";

    /// <summary>SAEBench's bar: a setting counts only if retain accuracy stays at this fraction of the original.</summary>
    public const double RetainBar = 0.99;

    public override JsonObject Build(StageContext context, string folder)
    {
        UnlearningEvalConfig config = context.Config.Evals.Unlearning;
        int contextSize = context.Config.Data.ContextSize;
        using var inputs = EvalInputs.Open(context);
        TokenizedCorpus corpus = inputs.Data.Corpus;

        var questions = NextWordQuestions.Build(inputs.Data.Stream(Split.Test), inputs.Data.Stream(Split.Train), corpus.PosTags,
            corpus.Labels.Count, config.QuestionsPerGenre, config.QuestionContext, InVocabulary(inputs.Subject), corpus.BosId, context.Seed);
        bool[] answered = Answers(inputs, questions, config.BatchSize, clamp: null);
        var kept = questions.Where((_, i) => answered[i]).ToList();
        AtomicFile.WriteAllText(Path.Combine(folder, QuestionsFile), string.Concat(questions.Select((q, i) => ResultJson.SerializeLine(new JsonObject
        {
            ["genre"] = corpus.Labels[q.Genre],
            ["prompt"] = new JsonArray(q.Prompt.TokenIds.Select(id => (JsonNode)id).ToArray()),
            ["choices"] = new JsonArray(q.Choices.Select(id => (JsonNode)id).ToArray()),
            ["answered_clean"] = answered[i],
        }) + "\n")));

        int forget = ForgetGenre(config, corpus.Labels, kept);
        HashSet<int> retain = RetainGenres(config, corpus.Labels, forget);
        var forgetQuestions = kept.Where(q => q.Genre == forget).ToList();
        var retainQuestions = TakeInTurn(kept.Where(q => retain.Contains(q.Genre)).ToList(), config.QuestionsPerGenre);
        var summary = new JsonObject
        {
            ["forget_genre"] = corpus.Labels[forget],
            ["retain_genres"] = new JsonArray(retain.Order().Select(g => (JsonNode)corpus.Labels[g]).ToArray()),
            ["questions"] = new JsonObject
            {
                ["forget"] = Counts(questions.Count(q => q.Genre == forget), forgetQuestions.Count, forgetQuestions.Count),
                ["retain"] = Counts(questions.Count(q => retain.Contains(q.Genre)), kept.Count(q => retain.Contains(q.Genre)), retainQuestions.Count),
            },
        };
        if (forgetQuestions.Count == 0 || retainQuestions.Count == 0)
        {
            summary["unlearning"] = new JsonObject { ["unlearning_score"] = null };
            summary["not_scored"] = "the unmodified model answers no forget or no retain question, so nothing can be unlearned";
            return summary;
        }

        ContextWindows validation = inputs.Data.Windows(Split.Val, contextSize), test = inputs.Data.Windows(Split.Test, contextSize);
        double[] forgetSparsity = FiringRates(inputs, SideWindows(validation, g => g == forget, config.SparsityTokens), g => g == forget, config.BatchSize);
        double[] retainSparsity = FiringRates(inputs, SideWindows(validation, retain.Contains, config.SparsityTokens), retain.Contains, config.BatchSize);
        EvalWindows forgetText = SideWindows(test, g => g == forget, config.CrossEntropyTokens);
        EvalWindows retainText = SideWindows(test, retain.Contains, config.CrossEntropyTokens);
        double forgetCe = CrossEntropy(inputs, forgetText, g => g == forget, config.BatchSize, clamp: null);
        double retainCe = CrossEntropy(inputs, retainText, retain.Contains, config.BatchSize, clamp: null);

        var settings = new JsonArray();
        var selected = new JsonObject();
        double? minForget = null;
        foreach (double threshold in config.RetainThresholds)
        {
            int[] ranked = LatentClamp.Select(forgetSparsity, retainSparsity, threshold, config.FeatureCounts.Max());
            selected[threshold.ToString("R", CultureInfo.InvariantCulture)] = new JsonArray(ranked.Select(i => (JsonNode)i).ToArray());
            foreach (int count in config.FeatureCounts)
                foreach (double multiplier in config.Multipliers)
                {
                    using var chosen = zeros(inputs.Sae.DSae, ScalarType.Bool);
                    using var chosenIds = tensor(ranked.Take(count).Select(i => (long)i).ToArray(), ScalarType.Int64);
                    chosen.index_fill_(0, chosenIds, true);
                    var clamp = (chosen, multiplier);
                    double forgetAccuracy = Answers(inputs, forgetQuestions, config.BatchSize, clamp).Average(a => a ? 1.0 : 0.0);
                    double retainAccuracy = Answers(inputs, retainQuestions, config.BatchSize, clamp).Average(a => a ? 1.0 : 0.0);
                    if (retainAccuracy >= RetainBar) minForget = Math.Min(minForget ?? 1, forgetAccuracy);
                    settings.Add(new JsonObject
                    {
                        ["retain_threshold"] = threshold,
                        ["n_features"] = count,
                        ["n_selected"] = Math.Min(count, ranked.Length),
                        ["multiplier"] = multiplier,
                        ["forget_accuracy"] = forgetAccuracy,
                        ["retain_accuracy"] = retainAccuracy,
                        ["forget_ce_increase"] = CrossEntropy(inputs, forgetText, g => g == forget, config.BatchSize, clamp) - forgetCe,
                        ["retain_ce_increase"] = CrossEntropy(inputs, retainText, retain.Contains, config.BatchSize, clamp) - retainCe,
                    });
                }
        }
        // No setting that keeps retain knowledge: nothing was unlearned without damage, so the score is 0.
        summary["unlearning"] = new JsonObject { ["unlearning_score"] = Score(minForget) };
        summary["cross_entropy_clean"] = new JsonObject { ["forget"] = forgetCe, ["retain"] = retainCe };
        summary["settings"] = settings;
        summary["selected_latents"] = selected;
        return summary;
    }

    /// <summary>1 - the lowest forget accuracy among settings that keep retain accuracy; 0 when no setting does.</summary>
    public static double Score(double? minForgetAccuracy) => minForgetAccuracy is { } min ? 1 - min : 0;

    static JsonObject Counts(int built, int answered, int scored) => new() { ["built"] = built, ["answered_clean"] = answered, ["scored"] = scored };

    /// <summary>
    /// Up to <paramref name="count"/> questions taken one genre at a time in turn (first of each genre, then second, ...),
    /// so every retain genre is represented while each setting scores only as many retain questions as forget ones
    /// could be: scoring all of them would cost more than the rest of the evaluation together.
    /// </summary>
    public static List<NextWordQuestion> TakeInTurn(IReadOnlyList<NextWordQuestion> questions, int count) =>
        questions.GroupBy(q => q.Genre).SelectMany(g => g.Select((q, rank) => (q, rank)))
            .OrderBy(x => x.rank).ThenBy(x => x.q.Genre).Select(x => x.q).Take(count).ToList();

    static Func<int, bool> InVocabulary(LoadedSubjectModel subject)
    {
        if (subject.Vocab is null) return id => id < subject.Model.VocabSize;
        var known = subject.Vocab.Gpt2Ids.ToHashSet();
        return id => known.Contains(id);
    }

    static int ForgetGenre(UnlearningEvalConfig config, IReadOnlyList<string> genres, IReadOnlyList<NextWordQuestion> kept)
    {
        if (config.ForgetGenre == "auto")
            return Enumerable.Range(0, genres.Count).OrderByDescending(g => kept.Count(q => q.Genre == g)).ThenBy(g => g).First();
        return LabelId("evals.unlearning.forget_genre", config.ForgetGenre, genres);
    }

    static HashSet<int> RetainGenres(UnlearningEvalConfig config, IReadOnlyList<string> genres, int forget)
    {
        var retain = config.RetainGenres.Count == 0
            ? Enumerable.Range(0, genres.Count).Where(g => g != forget).ToHashSet()
            : config.RetainGenres.Select(name => LabelId("evals.unlearning.retain_genres", name, genres)).ToHashSet();
        if (retain.Contains(forget))
            throw new InvalidInputException($"evals.unlearning.retain_genres: '{genres[forget]}' is the forget genre; a genre cannot be both forgotten and retained.");
        return retain;
    }

    static int LabelId(string key, string name, IReadOnlyList<string> genres)
    {
        int id = genres.ToList().IndexOf(name);
        return id >= 0 ? id : throw new InvalidInputException($"{key}: '{name}' is not a Brown genre; known genres: {string.Join(", ", genres)}");
    }

    /// <summary>The first windows of a split holding up to <paramref name="budget"/> non-special tokens of the side's genres.</summary>
    static EvalWindows SideWindows(ContextWindows windows, Func<int, bool> inSide, long budget)
    {
        var picked = new List<int>();
        long tokens = 0;
        for (int w = 0; w < windows.Count && tokens < budget; w++)
        {
            int inWindow = 0;
            for (int i = w * windows.ContextSize; i < (w + 1) * windows.ContextSize; i++)
                if (!windows.Tokens.Special[i] && inSide(windows.Tokens.LabelIds[i])) inWindow++;
            if (inWindow == 0) continue;
            picked.Add(w);
            tokens += inWindow;
        }
        return new EvalWindows(windows.Gather(picked), picked.Count, windows.ContextSize);
    }

    /// <summary>[B, T] bool: non-special tokens whose genre is on the side.</summary>
    static Tensor SideMask(EvalBatch batch, Func<int, bool> inSide) =>
        tensor(batch.Tokens.LabelIds.Select((g, i) => !batch.Tokens.Special[i] && inSide(g)).ToArray(), batch.Special.shape);

    /// <summary>Per latent, the fraction of the side's tokens where it fires.</summary>
    static double[] FiringRates(EvalInputs inputs, EvalWindows windows, Func<int, bool> inSide, int batchSize)
    {
        using var fired = zeros(inputs.Sae.DSae, ScalarType.Float64);
        long tokens = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(batchSize))
            {
                using var scope = NewDisposeScope();
                Tensor x = inputs.HookActivations(batch.TokenIds);
                Tensor f = inputs.Sae.Encode(batch.Activations(x));                             // [B, T, d_sae]
                Tensor side = SideMask(batch, inSide);                                            // [B, T]
                fired.add_(f.gt(0).logical_and(side.unsqueeze(-1)).sum([0, 1]).to_type(ScalarType.Float64));
                tokens += side.sum().item<long>();
            }
        }
        return (fired / Math.Max(tokens, 1)).data<double>().ToArray();
    }

    /// <summary>Mean next-token cross-entropy over positions whose input token is on the side, with the clamp if given.</summary>
    static double CrossEntropy(EvalInputs inputs, EvalWindows windows, Func<int, bool> inSide, int batchSize, (Tensor Chosen, double Multiplier)? clamp)
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
    static bool[] Answers(EvalInputs inputs, IReadOnlyList<NextWordQuestion> questions, int batchSize, (Tensor Chosen, double Multiplier)? clamp)
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

    static Tensor Logits(EvalInputs inputs, EvalBatch batch, Tensor ids, (Tensor Chosen, double Multiplier)? clamp) => clamp is { } c
        ? inputs.Subject.Model.Forward(ids, new ResidHook(inputs.Layer, Replace: x => LatentClamp.Apply(inputs.Sae, batch.Activations(x), c.Chosen, c.Multiplier))).Logits!
        : inputs.Subject.Model.Forward(ids).Logits!;
}
