// Trains the built-in subject model: a GPT-2-architecture model (Gpt2Model, HF layout) on the training split's token
// windows in a reduced vocabulary, with AdamW, linear warm-up + cosine decay and global-norm clipping (nanoGPT's
// recipe), then scores validation cross-entropy beside unigram and add-k bigram baselines on the same positions.
// Deterministic on CPU for a fixed seed and thread count: initialisation and batch order come only from the seed.
using System.Diagnostics;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Models.BuiltinLm;

/// <summary>Cross-entropies are in nats per predicted token on the validation windows.</summary>
public sealed record BuiltinLmReport(
    double ValCe,
    double UnigramCe,
    double BigramCe,
    double BigramK,
    int Steps,
    double TokensPerSecond,
    double TrainSeconds,
    double FinalTrainLoss,
    long TrainTokens,
    long ValPositions,
    int VocabSize,
    int ContextSize,
    long Parameters)
{
    public bool BeatsBigram => ValCe < BigramCe;
}

public static class BuiltinLmTrainer
{
    // nanoGPT's AdamW betas for small GPTs: beta2 0.95 reacts faster to the loss landscape of short runs.
    const double Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8;

    public static BuiltinLmReport Train(BuiltinModelConfig config, long seed, Tensor trainWindows, Tensor valWindows, string outFolder,
        Action<string>? progress = null)
    {
        CheckWindows(trainWindows, "training");
        CheckWindows(valWindows, "validation");
        if (trainWindows.shape[1] != valWindows.shape[1])
            throw new InvalidInputException($"training windows have {trainWindows.shape[1]} tokens but validation windows {valWindows.shape[1]}");
        if (config.Width % config.Heads != 0)
            throw new InvalidInputException($"subject_model.builtin: width ({config.Width}) must be divisible by heads ({config.Heads})");

        var vocabMap = VocabMap.Build(trainWindows, config.Vocab);
        using var train = vocabMap.ToModel(trainWindows); // [N, T] model ids
        using var val = vocabMap.ToModel(valWindows); // [M, T] model ids
        int contextSize = (int)train.shape[1];
        var baselines = NgramBaselines.Compute(train, val, vocabMap.Size);
        progress?.Invoke($"vocab {vocabMap.Size} (kept {vocabMap.Size - 1} GPT-2 ids + unknown); val baselines: unigram {baselines.UnigramCe:F4}, " +
                         $"bigram {baselines.BigramCe:F4} (add-k, k = {baselines.BigramK})");

        var modelConfig = new Gpt2Config
        {
            VocabSize = vocabMap.Size,
            NPositions = contextSize,
            NEmbd = config.Width,
            NLayer = config.Layers,
            NHead = config.Heads,
        };
        using var model = new Gpt2Model(modelConfig, ContentHash.DeriveSeed(seed, "builtin-lm/init"));
        model.train();
        long parameterCount = model.parameters().Sum(p => p.numel());

        using var optimizer = CreateOptimizer(model, config);
        var schedule = new WarmupCosineSchedule(config.LearningRate, Math.Min(config.WarmupSteps, config.Steps), config.Steps, config.MinLrFraction);
        var batches = new WindowSampler(train.shape[0], config.BatchSize, ContentHash.DeriveSeed(seed, "builtin-lm/batches"));
        var parameters = model.parameters().ToArray();

        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        int reportEvery = Math.Max(1, config.Steps / 20);
        for (int step = 0; step < config.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

            using var index = tensor(batches.Next(), ScalarType.Int64);
            var batch = train.index_select(0, index); // [B, T]
            var logits = model.forward(batch); // [B, T, V]
            var loss = NextTokenLoss(logits, batch);
            optimizer.zero_grad();
            loss.backward();
            if (config.GradClip > 0) nn.utils.clip_grad_norm_(parameters, config.GradClip);
            optimizer.step();

            lastLoss = loss.item<float>();
            if (!double.IsFinite(lastLoss))
                throw new RunFailedException($"built-in model training diverged at step {step + 1}: loss {lastLoss}; lower subject_model.builtin.learning_rate");
            if ((step + 1) % reportEvery == 0 || step + 1 == config.Steps)
                progress?.Invoke($"step {step + 1}/{config.Steps} loss {lastLoss:F4} lr {lr:G3} " +
                                 $"{(step + 1) * (double)config.BatchSize * contextSize / clock.Elapsed.TotalSeconds:F0} tokens/s");
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        long trainTokens = (long)config.Steps * config.BatchSize * contextSize;

        model.eval();
        double valCe = ValidationCrossEntropy(model, val, Math.Max(1, config.BatchSize * 2));
        var report = new BuiltinLmReport(valCe, baselines.UnigramCe, baselines.BigramCe, baselines.BigramK, config.Steps,
            trainTokens / trainSeconds, trainSeconds, lastLoss, trainTokens, baselines.Positions, vocabMap.Size, contextSize, parameterCount);
        progress?.Invoke($"val cross-entropy {valCe:F4} nats (unigram {baselines.UnigramCe:F4}, bigram {baselines.BigramCe:F4})" +
                         (report.BeatsBigram ? "" : " -- does NOT beat the bigram baseline"));

        model.Save(outFolder, new Dictionary<string, string> { ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        vocabMap.Save(outFolder);
        return report;
    }

    /// <summary>Mean cross-entropy of positions 0..T-2 predicting tokens 1..T-1.</summary>
    static Tensor NextTokenLoss(Tensor logits, Tensor windows)
    {
        long v = logits.shape[2];
        var predicted = logits[.., ..^1].reshape(-1, v); // [B * (T-1), V]
        var targets = windows[.., 1..].reshape(-1); // [B * (T-1)]
        return nn.functional.cross_entropy(predicted, targets);
    }

    static double ValidationCrossEntropy(Gpt2Model model, Tensor val, int batchSize)
    {
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        for (long start = 0; start < val.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = val.narrow(0, start, Math.Min(batchSize, val.shape[0] - start)); // [b, T]
            var logits = model.forward(batch);
            long positions = batch.shape[0] * (batch.shape[1] - 1);
            sum += NextTokenLoss(logits, batch).item<float>() * (double)positions;
            count += positions;
        }
        return sum / count;
    }

    static AdamW CreateOptimizer(Gpt2Model model, BuiltinModelConfig config)
    {
        // As nanoGPT: decay matrices and embeddings (dim >= 2), never biases or LayerNorm gains.
        var decay = model.parameters().Where(p => p.dim() >= 2).ToArray();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToArray();
        return optim.AdamW(
        [
            new AdamW.ParamGroup(decay, config.LearningRate, Beta1, Beta2, Eps, config.WeightDecay, false, false),
            new AdamW.ParamGroup(noDecay, config.LearningRate, Beta1, Beta2, Eps, 0.0, false, false),
        ], config.LearningRate, Beta1, Beta2, Eps);
    }

    static void CheckWindows(Tensor windows, string split)
    {
        if (windows.dim() != 2 || windows.dtype != ScalarType.Int64 || windows.shape[0] < 1 || windows.shape[1] < 2)
            throw new InvalidInputException(
                $"{split} windows must be int64 token ids [N >= 1, T >= 2], got {windows.dtype} [{string.Join(", ", windows.shape)}]");
    }
}
