// Peak memory and time of each stage of a manifest on this machine, before anything runs: from the subject model's
// shape (ModelShape), the token counts of the manifest and throughputs measured here (GemmPeak in the model's compute
// dtype and in float32, and a memory copy). Lower bounds: only the matrix products, the weights, one batch's
// activations and logits, and reading the weights are counted; kernels slower than GEMM, reading the checkpoint from
// disk, the SAE inside the evaluations and bookkeeping all add to them.
using System.Diagnostics;
using System.Globalization;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Benchmarks;

/// <summary>Throughputs of this machine: GEMM GFLOP/s in the model's compute dtype and in float32, memory copy GB/s.</summary>
public sealed record MachineThroughput(double ModelGflops, double Float32Gflops, double CopyGbPerSecond, string ModelDtype)
{
    /// <summary>Measures all three now (about 2 s on 2 threads).</summary>
    public static MachineThroughput Measure(string modelDtype)
    {
        ScalarType dtype = SubjectModels.ParseDtype(modelDtype);
        double float32 = GemmPeak.Measure(ScalarType.Float32, repeats: 2).Gflops;
        double model = dtype == ScalarType.Float32 ? float32 : GemmPeak.Measure(dtype, repeats: 2).Gflops;
        return new MachineThroughput(model, float32, MeasureCopy(), modelDtype);
    }

    /// <summary>Best of 3 copies of 256 MiB into a buffer already touched (read + write bytes counted once: the bytes moved).</summary>
    static double MeasureCopy()
    {
        using var scope = NewDisposeScope();
        var source = ones(64L << 20, dtype: ScalarType.Float32);
        var target = zeros(64L << 20, dtype: ScalarType.Float32);
        target.copy_(source);
        double best = double.PositiveInfinity;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            target.copy_(source);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (256.0 * 1048576) / best / 1e9;
    }
}

/// <summary>One stage's estimate: lower bounds of its peak memory and its time, and what they count.</summary>
public sealed record StageEstimate(string Stage, long PeakBytes, double Seconds, string Counts);

public static class StageEstimates
{
    /// <summary>The data stage's peak RSS and time with the three sources, measured (run0's build, README): the text, not the model, sets them.</summary>
    public const long DataPeakBytes = 782L << 20;

    public const double DataSeconds = 13;

    /// <summary>Windows of the largest activation batch the held-out analysis lets through (HeldoutAnalysis' logit budget).</summary>
    const long HeldoutLogitBudget = 1L << 26;

    public static IReadOnlyList<StageEstimate> For(ExperimentConfig config, ModelShape model, SaeMemoryEstimate? saeMemory, MachineThroughput machine)
    {
        int t = config.Data.ContextSize;
        int computeBytes = config.SubjectModel.Dtype == "bfloat16" ? 2 : 4;
        long weights = model.Parameters * computeBytes;
        long stored = model.Parameters * model.StoredBytesPerParameter;
        // The loader holds the stored tensors while it converts them; same dtype: shared, not copied.
        long loadPeak = stored + (model.StoredBytesPerParameter == computeBytes ? 0 : weights);
        double loadSeconds = (stored + (model.StoredBytesPerParameter == computeBytes ? 0 : weights)) / (machine.CopyGbPerSecond * 1e9);
        int layer = ManifestRules.HookLayer(config.Activations.Hook) ?? model.Layers - 1;
        int toHook = Math.Min(layer + 1, model.Layers);
        double hookFlops = model.ForwardFlopsPerToken(toHook, t, logits: false);
        double fullFlops = model.ForwardFlopsPerToken(model.Layers, t, logits: true);
        double Seconds(double flops) => flops / (machine.ModelGflops * 1e9);
        long Pass(int batch, bool logits, int logitCopies = 1) =>
            weights + model.ForwardActivationBytes(batch, t, computeBytes) + (logits ? logitCopies * model.LogitBytes(batch, t, computeBytes) : 0);
        string Tokens(double n) => n.ToString("N0", CultureInfo.InvariantCulture);

        var estimates = new List<StageEstimate>
        {
            new("data", DataPeakBytes, DataSeconds, "measured for the three sources (README); set by the text, not the model"),
        };
        if (!config.Stages.Contains("subject_model")) return estimates;
        estimates.Add(new("subject_model", loadPeak, loadSeconds,
            $"loads {Gb(stored)} of {(model.StoredBytesPerParameter == 4 ? "float32" : "16-bit")} weights{(model.StoredBytesPerParameter == computeBytes ? "" : $" into {Gb(weights)} of {config.SubjectModel.Dtype}")}"));
        if (!config.Stages.Contains("activations")) return estimates;

        long trainTokens = config.Activations.TrainTokens / t * t, heldoutTokens = config.Activations.HeldoutTokens / t * t;
        int heldoutBatch = (int)Math.Clamp(HeldoutLogitBudget / ((long)t * model.Vocab), 1, config.Activations.BatchSize);
        long storeBytes = trainTokens * model.DModel * (config.Activations.Dtype == "bfloat16" ? 2L : 4L);
        estimates.Add(new("activations",
            Math.Max(loadPeak, Math.Max(Pass(config.Activations.BatchSize, logits: false), Pass(heldoutBatch, logits: true))),
            loadSeconds + Seconds(trainTokens * hookFlops + heldoutTokens * fullFlops),
            $"{Tokens(trainTokens)} tokens through {toHook} blocks, {Tokens(heldoutTokens)} held-out tokens with logits; the store takes {Gb(storeBytes)} on disk"));
        if (!config.Stages.Contains("sae")) return estimates;

        // Forward and backward of encoder and decoder: 3 x (2 x 2 x d_in x d_sae) per token.
        double saeFlops = 12.0 * model.DModel * config.Sae.DSae;
        estimates.Add(new("sae", saeMemory?.Bytes ?? 0, config.Training.Tokens * saeFlops / (machine.Float32Gflops * 1e9),
            $"{Tokens(config.Training.Tokens)} training tokens at d_in {model.DModel}, d_sae {config.Sae.DSae} (float32)"));
        if (!config.Stages.Contains("evals")) return estimates;

        EvalsConfig evals = config.Evals;
        long saeBytes = 2L * model.DModel * config.Sae.DSae * 4;
        void Eval(string name, bool enabled, int batch, bool logits, int logitCopies, double hookTokens, double fullTokens, string counts)
        {
            if (!enabled) return;
            estimates.Add(new($"evals.{name}", Math.Max(loadPeak, Pass(batch, logits, logitCopies) + saeBytes),
                loadSeconds + Seconds(hookTokens * hookFlops + fullTokens * fullFlops), counts));
        }
        // Clean, SAE-spliced and zero-ablated passes; clean and spliced logits are compared, so both are live.
        Eval("core", evals.Core.Enabled, evals.Core.BatchSize, true, 2, 0, 3.0 * evals.Core.Tokens,
            $"3 full passes over {Tokens(evals.Core.Tokens)} tokens");
        Eval("capability", evals.Capability.Enabled, evals.Capability.BatchSize, true, 2, 0, 2.0 * evals.Capability.Tokens,
            $"2 full passes over {Tokens(evals.Capability.Tokens)} tokens");
        UnlearningEvalConfig u = evals.Unlearning;
        // The clean model, every setting, and the planted and random controls at every multiplier score all questions
        // and the cross-entropy texts of both sides.
        int settings = u.RetainThresholds.Count * u.FeatureCounts.Count * u.Multipliers.Count, scored = 1 + settings + 2 * u.Multipliers.Count;
        double questionTokens = (u.QuestionContext + 1.0) * (u.ForgetQuestions + u.RetainQuestions) * scored;
        Eval("unlearning", u.Enabled, u.BatchSize, true, 1, 2.0 * u.SparsityTokens, questionTokens + 2.0 * u.CrossEntropyTokens * scored,
            $"{settings} settings and 2 controls: questions, firing rates and {Tokens(u.CrossEntropyTokens)} cross-entropy tokens per side each");
        SparseProbingEvalConfig p = evals.SparseProbing;
        double probeTokens = 2.0 * (p.TrainExamplesPerClass + p.TestExamplesPerClass) * t;
        Eval("sparse_probing", p.Enabled, p.BatchSize, false, 0, probeTokens, 0, $"at least {Tokens(probeTokens)} tokens to the hook (one task's windows)");
        StabilityEvalConfig s = evals.Stability;
        double stabilityTokens = (double)s.Targets * (t + s.Windows.Sum(w => w + 1.0));
        Eval("stability", s.Enabled, s.BatchSize, false, 0, stabilityTokens, 0, $"{Tokens(s.Targets)} targets, full and {s.Windows.Count} truncated passes to the hook");
        Eval("smoothness", evals.Smoothness.Enabled, evals.Smoothness.BatchSize, false, 0, evals.Smoothness.Tokens, 0,
            $"{Tokens(evals.Smoothness.Tokens)} tokens to the hook");
        return estimates;
    }

    /// <summary>The lines `tsae validate` prints, each starting with "# ".</summary>
    public static IReadOnlyList<string> Lines(ModelShape model, string dtype, IReadOnlyList<StageEstimate> estimates, MachineThroughput machine)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"# estimate on this machine, before anything runs (a lower bound: it counts matrix products at the measured GEMM rate, weights, one batch's activations and logits): " +
                $"GEMM {machine.ModelGflops:F0} GFLOP/s {dtype}{(dtype == "float32" ? "" : $", {machine.Float32Gflops:F0} float32")}, memory copy {machine.CopyGbPerSecond:F1} GB/s"),
            $"# subject model: {model.Describe()}, computed in {dtype}",
        };
        int width = estimates.Max(e => e.Stage.Length);
        foreach (StageEstimate e in estimates)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"#   {e.Stage.PadRight(width)}  peak >= {(e.PeakBytes > 0 ? Gb(e.PeakBytes) : "(not known yet)"),9}  time >= {Duration(e.Seconds),8}  {e.Counts}"));
        lines.Add($"#   {"total".PadRight(width)}  {"",17}  time >= {Duration(estimates.Sum(e => e.Seconds)),8}");
        return lines;
    }

    /// <summary>GB with one decimal, MB below 1 GB (small models read as "0.0 GB" otherwise).</summary>
    public static string Gb(long bytes) => bytes >= 1e9
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F1} GB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F0} MB");

    public static string Duration(double seconds) => seconds switch
    {
        < 90 => string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s"),
        < 5400 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F0} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h"),
    };
}
