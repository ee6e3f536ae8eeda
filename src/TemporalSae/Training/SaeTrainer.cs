// Trains any SparseAutoencoder on batches of activations: Adam, learning-rate warm-up and decay, the architecture's
// loss coefficients with their warm-ups, gradient clipping, dead-latent tracking, optional input normalisation folded back into the weights afterwards,
// named losses logged as JSON Lines, resumable checkpoints, and loud failures for the runs that cannot mean anything
// (no steps, a NaN or infinite loss, every latent dead).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Safetensors;
using TemporalSae.Results;
using TemporalSae.Saes;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Training;

/// <summary>
/// What training did: steps, the input scale folded into the weights, final terms and latent health.
/// <c>StepPeakBytes</c> is a measurement of this machine, not a result: the peak memory of the second step (a
/// steady-state one, unlike the first, which loads kernels) in live native allocations above those held before it
/// (<see cref="ProcessMemory.MeasurePeakAbove"/>); 0 when fewer than two steps ran.
/// </summary>
public sealed record TrainingOutcome(
    long Steps,
    long Tokens,
    double InputScale,
    IReadOnlyDictionary<string, double> FinalTerms,
    double MeanL0,
    int DeadLatents,
    long DeadWindowTokens,
    IReadOnlyList<string> LogLines,
    long StepPeakBytes)
{
    public double DeadFraction(int dSae) => DeadLatents / (double)dSae;
}

/// <param name="lossCoefficients">The architecture's weighted loss terms (SaeArchitecture.LossCoefficients).</param>
public sealed class SaeTrainer(TrainingConfig config, IReadOnlyList<LossCoefficient> lossCoefficients, TextWriter log)
{
    public const string CheckpointFile = "checkpoint.safetensors";

    // Batches used to estimate the input scale; enough for a stable mean norm, few enough to be cheap.
    const int ScaleEstimateBatches = 16;

    // Steps between forced collections; a full collection of the small managed heap costs about a millisecond.
    const int CollectEvery = 8;

    /// <summary>
    /// Trains <paramref name="sae"/> in place. A checkpoint in <paramref name="checkpointFolder"/> (from a run with
    /// the same configuration that was stopped) is resumed; the result is then identical to an uninterrupted run.
    /// On success the input scale is folded into the weights, so the SAE reads and reconstructs raw activations.
    /// </summary>
    public TrainingOutcome Train(SparseAutoencoder sae, IBatchSource source, string checkpointFolder, bool normalizeInputs,
        CancellationToken cancel = default)
    {
        long steps = source.StepsPerEpoch == 0 ? 0 : config.Tokens / source.TokensPerStep;
        if (steps == 0)
            throw new RunFailedException(
                $"training would run 0 steps: training.tokens = {config.Tokens} with {source.TokensPerStep} tokens per step " +
                $"and {source.StepsPerEpoch} steps of data per epoch; raise training.tokens (or activations.train_tokens)");

        var schedule = new LearningRateSchedule(config, steps);
        long deadWindow = Math.Max(1, (long)Math.Round(config.DeadWindowFraction * steps * source.TokensPerStep));
        var named = sae.named_parameters().Select(p => (p.name, p.parameter)).ToArray();
        using var adam = new AdamState(named, config.AdamBeta1, config.AdamBeta2);
        using var sinceFired = torch.zeros(sae.DSae, ScalarType.Int64); // tokens since each latent last fired
        var logLines = new List<string>();
        long startStep = 0;
        double scale = 1;

        string checkpointPath = Path.Combine(checkpointFolder, CheckpointFile);
        if (File.Exists(checkpointPath))
        {
            (startStep, scale) = RestoreCheckpoint(checkpointPath, sae, adam, sinceFired, logLines);
            log.WriteLine($"[sae] resuming from the checkpoint at step {startStep}/{steps}");
        }
        else
        {
            if (normalizeInputs) scale = EstimateInputScale(source, sae.DIn);
            InitialiseDecoderBias(sae, source, scale);
        }

        int logEvery = (int)Math.Max(1, steps / 200);
        var progress = new TrainingProgress(log, steps, source.TokensPerStep);
        var lastTerms = new Dictionary<string, double>();
        double lastL0 = 0;
        long step = startStep;
        long stepPeakBytes = 0;
        void TrainStep(ActivationBatch raw)
        {
            using var scope = torch.NewDisposeScope();
            ActivationBatch batch = raw with { X = raw.X.mul(scale) };
            Dispose(raw with { DocumentIds = null, SentenceIds = null, Special = null });

            var coefficients = StepCoefficients.At(lossCoefficients, step);
            SaeForward forward = sae.Forward(new SaeStep(batch, coefficients, DeadLatents: sinceFired >= deadWindow));
            CheckFinite(forward, step);

            foreach (var parameter in adam.Parameters) parameter.grad?.zero_();
            forward.Loss.backward();
            if (config.GradClip > 0) nn.utils.clip_grad_norm_(adam.Parameters, config.GradClip);
            double lr = schedule.At(step);
            adam.Step(lr);
            sae.AfterStep();

            long tokens = CountTokens(batch);
            lastL0 = TrackFiring(forward.Features, batch, sinceFired, tokens);
            step++;
            if (step % logEvery == 0 || step == steps)
            {
                lastTerms = forward.Terms.ToDictionary(t => t.Key, t => t.Value.item<float>() * 1.0);
                logLines.Add(LogLine(step, step * (long)source.TokensPerStep, lr, coefficients, forward.Loss.item<float>(), lastTerms, lastL0,
                    DeadCount(sinceFired, deadWindow) / (double)sae.DSae));
            }
            progress.Report(step, forward.Loss.item<float>(), lastL0);
        }

        foreach (ActivationBatch raw in Batches(source, startStep))
        {
            if (step >= steps) { Dispose(raw); break; }
            cancel.ThrowIfCancellationRequested();
            // The memory a step needs: the peak of the second step, a steady-state one (the first loads kernels).
            if (step == startStep + 1) stepPeakBytes = ProcessMemory.MeasurePeakAbove(() => TrainStep(raw));
            else TrainStep(raw);
            // Some handles TorchSharp creates inside optimiser and autograd calls are released only by finalisers, and
            // native memory puts no pressure on the GC: without a periodic collection resident memory grows by about
            // one weight matrix per step (SaeTrainerMemoryTests).
            if (step % CollectEvery == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            if (config.CheckpointEvery > 0 && step % config.CheckpointEvery == 0 && step < steps)
                SaveCheckpoint(checkpointPath, sae, adam, sinceFired, step, scale, logLines);
        }
        progress.Finish();
        if (step < steps)
            throw new RunFailedException($"the batch source ended after {step} of {steps} steps");

        int deadCount = DeadCount(sinceFired, deadWindow);
        if (deadCount == sae.DSae)
            throw new RunFailedException(
                $"every one of the {sae.DSae} latents is dead at the end of training (none fired in the last {deadWindow} tokens); " +
                "lower training.l1_coefficient or raise training.learning_rate");
        sae.FoldInputScale(scale);
        return new TrainingOutcome(steps, steps * source.TokensPerStep, scale, lastTerms, lastL0, deadCount, deadWindow, logLines,
            stepPeakBytes);
    }

    /// <summary>Batches from <paramref name="startStep"/> on, across epochs.</summary>
    static IEnumerable<ActivationBatch> Batches(IBatchSource source, long startStep)
    {
        for (long epoch = startStep / source.StepsPerEpoch; ; epoch++)
        {
            long skip = epoch == startStep / source.StepsPerEpoch ? startStep % source.StepsPerEpoch : 0;
            foreach (ActivationBatch batch in source.Epoch(epoch))
            {
                if (skip-- > 0) { Dispose(batch); continue; }
                yield return batch;
            }
        }
    }

    /// <summary>
    /// b_dec = the mean of the (scaled) inputs of the first batches, as SAELens' b_dec_init_method "mean": residual
    /// streams have large constant components, and an SAE that starts centred spends no steps learning them.
    /// </summary>
    static void InitialiseDecoderBias(SparseAutoencoder sae, IBatchSource source, double scale)
    {
        var bias = sae.named_parameters().FirstOrDefault(p => p.name == "b_dec").parameter;
        if (bias is null) return;
        using var sum = torch.zeros(sae.DIn, ScalarType.Float64);
        long count = 0;
        int seen = 0;
        foreach (ActivationBatch batch in source.Epoch(0))
        {
            using (var scope = torch.NewDisposeScope())
            {
                Tensor x = batch.X.reshape(-1, sae.DIn).to(ScalarType.Float64);                // [n, d_in]
                if (batch.Special is not null) x = x[batch.Special.reshape(-1).logical_not()];
                sum.add_(x.sum(dim: 0));
                count += x.shape[0];
            }
            Dispose(batch);
            if (++seen == ScaleEstimateBatches) break;
        }
        if (count == 0) return;
        using var noGrad = torch.no_grad();
        bias.copy_((sum / count * scale).to(bias.dtype));
    }

    /// <summary>sqrt(d_in) / E||x|| over the first batches of epoch 0, so that E||s x|| = sqrt(d_in) (SAELens).</summary>
    static double EstimateInputScale(IBatchSource source, int dIn)
    {
        double normSum = 0;
        long count = 0;
        int seen = 0;
        foreach (ActivationBatch batch in source.Epoch(0))
        {
            using (var scope = torch.NewDisposeScope())
            {
                Tensor norms = batch.X.norm(-1);                                           // [N] or [B, T]
                Tensor keep = batch.Special is null ? torch.ones_like(norms) : batch.Special.logical_not().to_type(norms.dtype);
                normSum += (norms * keep).sum().to(ScalarType.Float64).item<double>();
                count += (long)keep.sum().item<float>();
            }
            Dispose(batch);
            if (++seen == ScaleEstimateBatches) break;
        }
        if (count == 0 || normSum <= 0)
            throw new RunFailedException("cannot normalise activations: the first batches hold no non-special token with a non-zero norm");
        return Math.Sqrt(dIn) / (normSum / count);
    }

    void CheckFinite(SaeForward forward, long step)
    {
        if (double.IsFinite(forward.Loss.item<float>())) return;
        string bad = forward.Terms.Where(t => !float.IsFinite(t.Value.item<float>()))
            .Select(t => $"{t.Key} = {t.Value.item<float>()}").FirstOrDefault() ?? $"total loss = {forward.Loss.item<float>()}";
        throw new RunFailedException(
            $"training produced a non-finite loss at step {step + 1}: {bad}; lower training.learning_rate or check the activations");
    }

    static long CountTokens(ActivationBatch batch) =>
        batch.Special is null ? batch.X.shape[..^1].Aggregate(1L, (a, b) => a * b) : batch.Special.logical_not().sum().item<long>();

    /// <summary>
    /// Updates tokens-since-fired per latent; returns the batch's mean L0 over non-special tokens. Features are
    /// non-negative in every architecture (ReLU or TopK of ReLU), so a latent fired when its column sum over the kept
    /// tokens is positive: one GEMV and one count over the step's largest tensor, no mask of its size.
    /// </summary>
    static double TrackFiring(Tensor features, ActivationBatch batch, Tensor sinceFired, long tokens)
    {
        using var scope = torch.NewDisposeScope();
        Tensor flat = features.detach().reshape(-1, features.shape[^1]);                   // [tokens, d_sae]
        Tensor fired;
        long active;
        if (batch.Special is null)
        {
            fired = flat.sum([0L]) > 0;                                                       // [d_sae]
            active = flat.count_nonzero().item<long>();
        }
        else
        {
            Tensor special = batch.Special.reshape(-1);                                     // [tokens]
            fired = special.logical_not().to_type(flat.dtype).matmul(flat) > 0;            // [d_sae]
            using var specialRows = flat.index_select(0, special.nonzero().reshape(-1));    // [specials, d_sae]
            active = flat.count_nonzero().item<long>() - specialRows.count_nonzero().item<long>();
        }
        sinceFired.add_(tokens).masked_fill_(fired, 0);
        return tokens == 0 ? 0 : active / (double)tokens;
    }

    static int DeadCount(Tensor sinceFired, long window) => (int)(sinceFired >= window).sum().item<long>();

    /// <summary>One JSON line: step, tokens, lr, each warmed-up coefficient (`TERM_coefficient`), loss, terms, l0, dead fraction.</summary>
    string LogLine(long step, long tokens, double lr, StepCoefficients coefficients, double loss,
        IReadOnlyDictionary<string, double> terms, double l0, double deadFraction)
    {
        var line = new JsonObject
        {
            ["step"] = step,
            ["tokens"] = tokens,
            ["lr"] = lr,
        };
        foreach (var coefficient in lossCoefficients.Where(c => c.WarmupKey is not null))
            line[$"{coefficient.Term}_coefficient"] = coefficients[coefficient.Term];
        line["loss"] = loss;
        foreach (var (name, value) in terms.OrderBy(t => t.Key, StringComparer.Ordinal)) line[name] = value;
        line["l0"] = l0;
        line["dead_fraction"] = deadFraction;
        return ResultJson.SerializeLine(line);
    }

    static void SaveCheckpoint(string path, SparseAutoencoder sae, AdamState adam, Tensor sinceFired, long step, double scale, List<string> logLines)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in sae.named_parameters()) tensors[$"sae.{name}"] = parameter.detach();
        foreach (var (name, buffer) in sae.named_buffers()) tensors[$"buffer.{name}"] = buffer;
        foreach (var (name, tensor) in adam.StateTensors()) tensors[name] = tensor;
        tensors["since_fired"] = sinceFired;
        var metadata = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["input_scale"] = scale.ToString("R", CultureInfo.InvariantCulture),
            ["log"] = string.Join('\n', logLines),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Write(path, tensors, metadata);
    }

    static (long Step, double Scale) RestoreCheckpoint(string path, SparseAutoencoder sae, AdamState adam, Tensor sinceFired, List<string> logLines)
    {
        using var file = SafetensorsFile.Open(path);
        long step = long.Parse(file.Metadata["step"], CultureInfo.InvariantCulture);
        double scale = double.Parse(file.Metadata["input_scale"], CultureInfo.InvariantCulture);
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in sae.named_parameters())
                using (var saved = file.Load($"sae.{name}")) parameter.copy_(saved);
            foreach (var (name, buffer) in sae.named_buffers())
                using (var saved = file.Load($"buffer.{name}")) buffer.copy_(saved);
            using var fired = file.Load("since_fired");
            sinceFired.copy_(fired);
        }
        adam.Restore(name => file.Load(name), step);
        string text = file.Metadata["log"];
        if (text.Length > 0) logLines.AddRange(text.Split('\n'));
        return (step, scale);
    }

    static void Dispose(ActivationBatch batch)
    {
        batch.X.Dispose();
        batch.DocumentIds?.Dispose();
        batch.SentenceIds?.Dispose();
        batch.Special?.Dispose();
    }
}

/// <summary>Steps, loss, L0, tokens/s and ETA: one updating line on a terminal, periodic plain lines otherwise (CI).</summary>
sealed class TrainingProgress(TextWriter log, long steps, int tokensPerStep)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly bool interactive = !Console.IsOutputRedirected && ReferenceEquals(log, Console.Out);
    long firstStep = -1;
    TimeSpan lastPrinted = TimeSpan.Zero;

    public void Report(long step, double loss, double l0)
    {
        if (firstStep < 0) firstStep = step - 1;
        TimeSpan every = interactive ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(10);
        if (clock.Elapsed - lastPrinted < every && step != steps) return;
        lastPrinted = clock.Elapsed;
        double rate = (step - firstStep) * (double)tokensPerStep / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
        double eta = (steps - step) * tokensPerStep / Math.Max(1e-9, rate);
        string text = string.Create(CultureInfo.InvariantCulture,
            $"[sae] step {step}/{steps} ({100.0 * step / steps:F0}%) loss {loss:G4} l0 {l0:F1} {rate:F0} tokens/s ETA {TimeSpan.FromSeconds(eta):mm\\:ss}");
        if (interactive) log.Write($"\r{text}   ");
        else log.WriteLine(text);
    }

    public void Finish()
    {
        if (interactive) log.WriteLine();
    }
}
