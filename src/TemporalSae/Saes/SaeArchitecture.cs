// What the pipeline knows about one SAE architecture, in one place: its registry key and description, the manifest
// keys it reads and the rules among them, whether it trains on whole sequences, its loss coefficients and their
// warm-ups, its peak-memory estimate, its cache version and its SAELens export mapping. Each architecture's file
// holds its descriptor beside its module; SaeRegistry lists the descriptors, one line each.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using static TorchSharp.torch;

namespace TemporalSae.Saes;

/// <summary>
/// The weight of one named loss term in a training step: the value of a manifest key, rising linearly from 0 over
/// the steps of <paramref name="WarmupKey"/> when the architecture gives the term a warm-up (SAELens' l1_warm_up).
/// Coefficients with a warm-up are logged per step (as `TERM_coefficient`); constant ones are in the config.
/// </summary>
public sealed record LossCoefficient(string Term, string Key, double Value, string? WarmupKey = null, int WarmupSteps = 0)
{
    public double At(long step) => Value * (WarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)WarmupSteps) : 1.0);
}

/// <summary>The coefficients of one step by loss-term name, after warm-ups.</summary>
public sealed class StepCoefficients
{
    readonly IReadOnlyDictionary<string, double> values;

    public StepCoefficients(IReadOnlyDictionary<string, double> values) => this.values = values;

    public static StepCoefficients Of(params (string Term, double Value)[] values) =>
        new(values.ToDictionary(v => v.Term, v => v.Value, StringComparer.Ordinal));

    public static StepCoefficients At(IReadOnlyList<LossCoefficient> coefficients, long step) =>
        new(coefficients.ToDictionary(c => c.Term, c => c.At(step), StringComparer.Ordinal));

    public double this[string term] => values.TryGetValue(term, out double value)
        ? value
        : throw new InvalidOperationException(
            $"the step has no coefficient for the loss term `{term}` (it has: {string.Join(", ", values.Keys.Order(StringComparer.Ordinal))})");
}

/// <summary>
/// One training step's input: the batch, the loss coefficients the architecture declared, and the trainer's
/// dead-latent mask [d_sae] (bool: no firing within the dead window), for losses that revive dead latents.
/// </summary>
public sealed record SaeStep(ActivationBatch Batch, StepCoefficients Coefficients, Tensor? DeadLatents = null);

/// <summary>
/// The shapes of one training step that memory depends on: tokens per step (whole context windows for sequence
/// batches), the context size, and the SAE's widths.
/// </summary>
public sealed record SaeStepShapes(long Tokens, int ContextSize, int DIn, int DSae)
{
    public long Sequences => Tokens / ContextSize;
}

/// <summary>How an SAE reads in SAELens' cfg.json: its architecture field, activation function and arguments.</summary>
public sealed record SaeLensActivation(string Architecture, string ActivationFn, JsonObject Kwargs);

public abstract class SaeArchitecture
{
    /// <summary>Keys every architecture reads; the rest of <c>sae</c> and the loss coefficients depend on the architecture.</summary>
    public static readonly IReadOnlyList<string> SharedSaeKeys = ["sae.architecture", "sae.d_sae", "sae.normalize_activations"];

    /// <summary>fp32 parameters, gradients and Adam's two moments: 4 copies of every parameter.</summary>
    public const int ParameterCopies = 4;

    /// <summary>The manifest's <c>sae.architecture</c>.</summary>
    public abstract string Key { get; }

    /// <summary>One line for the README's architecture table and for messages.</summary>
    public abstract string Description { get; }

    /// <summary>Trains on whole context windows [B, T, d] rather than shuffled tokens [N, d].</summary>
    public virtual bool TrainsOnSequences => false;

    /// <summary>
    /// The manifest keys outside <see cref="SharedSaeKeys"/> and the shared training keys that this architecture can
    /// read (a key covers the keys below it). A run's own file that sets any other architecture's key is refused.
    /// </summary>
    public abstract IReadOnlyList<string> Keys { get; }

    /// <summary>Keys of <see cref="Keys"/> that this configuration does not read, each with the reason.</summary>
    public virtual IEnumerable<(string Key, string Reason)> Unused(SaeConfig sae) => [];

    /// <summary>Rules among the keys this architecture reads; each error points at the value to change.</summary>
    public virtual void Validate(ExperimentConfig config, ManifestLocations at) { }

    /// <summary>The loss terms the trainer weights, with their coefficients and warm-ups.</summary>
    public abstract IReadOnlyList<LossCoefficient> LossCoefficients(TrainingConfig training, SaeConfig sae);

    /// <summary>Peak bytes of one training step with Adam, from the shapes alone.</summary>
    public abstract long EstimatePeakBytes(SaeStepShapes shapes, SaeConfig sae);

    /// <summary>What to change when the estimate is above the limit.</summary>
    public virtual string MemoryAdvice(SaeStepShapes shapes, SaeConfig sae) =>
        "lower training.batch_size or sae.d_sae, or raise training.memory_limit_mb";

    /// <summary>
    /// Why a step of this shape may not start: its estimate exceeds <paramref name="memoryLimitMb"/>
    /// (training.memory_limit_mb; 0 means no limit). Null when it fits.
    /// </summary>
    public string? MemoryRefusal(SaeStepShapes shapes, SaeConfig sae, long memoryLimitMb)
    {
        long estimate = EstimatePeakBytes(shapes, sae);
        if (memoryLimitMb <= 0 || estimate <= memoryLimitMb * 1048576) return null;
        return $"the estimated peak memory of a `{Key}` training step, {Mib(estimate)} MiB ({Describe(shapes)}), exceeds " +
               $"training.memory_limit_mb = {memoryLimitMb} MiB; {MemoryAdvice(shapes, sae)}.";
    }

    /// <summary>The shapes as a message gives them.</summary>
    public string Describe(SaeStepShapes shapes) => TrainsOnSequences
        ? $"{shapes.Sequences} sequences of {shapes.ContextSize} tokens, d_in = {shapes.DIn}, d_sae = {shapes.DSae}"
        : $"{shapes.Tokens} tokens, d_in = {shapes.DIn}, d_sae = {shapes.DSae}";

    static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Part of the SAE stage's cache key: bumped when training gives other numbers for the same configuration.</summary>
    public virtual int CacheVersion => 1;

    public abstract SparseAutoencoder Create(SaeConfig sae, int dIn, long seed);

    public abstract SaeLensActivation SaeLens(SaeConfig sae);

    /// <summary>The configuration of a folder written by SAELens itself (no TemporalSae section), when this architecture is its reading.</summary>
    public virtual SaeConfig? FromSaeLens(string architecture, string activationFn, JsonObject cfg, string cfgPath) => null;

    /// <summary>
    /// Bytes of a step: <see cref="ParameterCopies"/> of <paramref name="parameters"/> floats, and per token
    /// <paramref name="latentTensors"/> rows of d_sae and <paramref name="inputTensors"/> rows of d_in alive at the peak.
    /// </summary>
    protected static long StepBytes(double parameters, SaeStepShapes shapes, double latentTensors, double inputTensors) =>
        (long)Math.Ceiling((ParameterCopies * parameters
                            + (double)shapes.Tokens * (latentTensors * shapes.DSae + inputTensors * shapes.DIn)) * sizeof(float));

    /// <summary>W_enc, W_dec, b_enc and b_dec: 2 d_in d_sae + d_sae + d_in floats.</summary>
    protected static double DictionaryParameters(SaeStepShapes shapes) =>
        2.0 * shapes.DIn * shapes.DSae + shapes.DSae + shapes.DIn;

    /// <summary>sae.k within 1..d_sae, for every architecture whose activation keeps the top k.</summary>
    protected static void CheckK(SaeConfig sae, ManifestLocations at, string why)
    {
        if (sae.K > sae.DSae)
            throw ManifestErrors.At(at.Of("sae.k"), $"`sae.k` = {sae.K} is larger than `sae.d_sae` = {sae.DSae}.",
                $"Expected at most d_sae active latents per token ({why}).");
    }

    /// <summary>The L1 sparsity penalty every ReLU-style architecture here shares (SAELens' l1_coefficient, warmed up).</summary>
    protected static LossCoefficient Sparsity(TrainingConfig training) =>
        new("sparsity", "training.l1_coefficient", training.L1Coefficient, "training.l1_warmup_steps", training.L1WarmupSteps);
}

/// <summary>The SAE stage's estimated peak memory per training step, as `tsae validate` prints it.</summary>
public sealed record SaeMemoryEstimate(SaeArchitecture Architecture, SaeStepShapes Shapes, long Bytes, long LimitMb)
{
    public string Summary => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"sae stage: estimated peak memory of a training step {Bytes / 1048576.0:F0} MiB (`{Architecture.Key}`, " +
        $"{Architecture.Describe(Shapes)}); training.memory_limit_mb = {(LimitMb > 0 ? $"{LimitMb} MiB" : "none")}");
}
