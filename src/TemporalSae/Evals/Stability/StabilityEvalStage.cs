// The stability evaluation stage: the last token of each held-out (test split) window is a target; its features with
// the full window are compared with its features when the model and the SAE see only the last w tokens. The truncated
// input starts with the tokenizer's BOS, as every window the model was trained and evaluated on does (without it the first
// kept token would become the attention sink and every position would shift); so w counts real tokens of context.
// Features are f_i ||W_dec,i|| (EvalInputs.ScaledFeatures), so the cosine weighs latents by what they write.
using System.Globalization;
using System.Text.Json.Nodes;
using TemporalSae.Data;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Tokenizers;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Stability;

public sealed class StabilityEvalStage : EvalStage
{
    public override string Name => "stability";
    public override int Version => 2;
    public override void CheckInputs(ExperimentConfig config, RunEnvironment environment)
    {
        foreach (int w in config.Evals.Stability.Windows)
            if (w >= config.Data.ContextSize)
                throw new Infrastructure.InvalidInputException(
                    $"evals.stability.windows: {w} is not shorter than data.context_size ({config.Data.ContextSize}); a truncated context must drop something");
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        StabilityEvalConfig stability = context.Config.Evals.Stability;
        using var inputs = EvalInputs.Open(context);
        EvalWindows windows = inputs.TestWindows((long)stability.Targets * context.Config.Data.ContextSize);
        var measure = new FeatureStability();
        using (no_grad())
        {
            foreach (EvalBatch batch in windows.Batches(stability.BatchSize))
            {
                using var scope = NewDisposeScope();
                int last = windows.ContextSize - 1;
                int[] rows = Enumerable.Range(0, (int)batch.TokenIds.shape[0]).Where(r => !batch.Tokens.Special[r * windows.ContextSize + last]).ToArray();
                if (rows.Length == 0) continue;
                int[] sentenceDistance = rows.Select(r => Distance(batch.Tokens.SentenceIds, batch.Tokens.Special, r, windows.ContextSize)).ToArray();
                int[] documentDistance = rows.Select(r => Distance(batch.Tokens.DocumentIds, batch.Tokens.Special, r, windows.ContextSize)).ToArray();
                Tensor keep = tensor(rows.Select(r => (long)r).ToArray());
                Tensor full = TargetFeatures(inputs, batch.TokenIds, batch.DocumentIds, batch.SentenceIds, batch.Special).index_select(0, keep);
                foreach (int w in stability.Windows)
                {
                    Tensor truncated = TargetFeatures(inputs,
                        WithBos(batch.TokenIds, w, inputs.Data.Corpus.BosId), WithBos(batch.DocumentIds, w), WithBos(batch.SentenceIds, w),
                        cat([ones(batch.Special.shape[0], 1, dtype: ScalarType.Bool), batch.Special.narrow(1, windows.ContextSize - w, w)], 1));
                    measure.Add(w, full, truncated.index_select(0, keep), sentenceDistance, documentDistance);
                }
            }
        }
        return ToJson(measure, stability.Windows);
    }

    /// <summary>Features [B, d_sae] of the last position of tokenIds [B, T], the SAE seeing the whole sequence.</summary>
    static Tensor TargetFeatures(EvalInputs inputs, Tensor tokenIds, Tensor documentIds, Tensor sentenceIds, Tensor special)
    {
        Tensor x = inputs.HookActivations(tokenIds);
        Tensor f = inputs.ScaledFeatures(new ActivationBatch(x, documentIds, sentenceIds, special));  // [B, T, d_sae]
        return f.select(1, -1);                                                                   // [B, d_sae]
    }

    /// <summary>The last w columns of [B, T], preceded by one column: <paramref name="bos"/>, or the first kept column's ids.</summary>
    static Tensor WithBos(Tensor ids, int w, long? bos = null)
    {
        Tensor kept = ids.narrow(1, ids.shape[1] - w, w);                                          // [B, w]
        Tensor first = bos is { } id ? full_like(kept.narrow(1, 0, 1), id) : kept.narrow(1, 0, 1); // [B, 1]
        return cat([first, kept], 1);                                                             // [B, w + 1]
    }

    static int Distance(int[] segmentIds, bool[] special, int row, int contextSize) =>
        FeatureStability.DistanceToSegmentStart(segmentIds.AsSpan(row * contextSize, contextSize), special.AsSpan(row * contextSize, contextSize), contextSize - 1);

    static JsonObject ToJson(FeatureStability measure, IReadOnlyList<int> windows)
    {
        var byWindow = new JsonObject();
        foreach (int w in windows)
        {
            var entry = Scores(measure.Scores(w, "all"));
            foreach (string boundary in new[] { "sentence", "document" })
            {
                var buckets = new JsonObject();
                foreach (var bucket in FeatureStability.DistanceBuckets)
                    buckets[bucket.Name] = Scores(measure.Scores(w, $"{boundary}:{bucket.Name}"));
                entry[$"by_{boundary}_distance"] = buckets;
            }
            byWindow[w.ToString(CultureInfo.InvariantCulture)] = entry;
        }
        return new JsonObject
        {
            ["targets"] = measure.Scores(windows[0], "all").Targets,
            ["distance_buckets"] = "tokens from the first token of the target's sentence or document to the target",
            ["by_window"] = byWindow,
        };
    }

    static JsonObject Scores(StabilityScores s) => new()
    {
        ["targets"] = s.Targets,
        ["jaccard"] = s.Jaccard,
        ["cosine"] = s.Cosine,
    };
}
