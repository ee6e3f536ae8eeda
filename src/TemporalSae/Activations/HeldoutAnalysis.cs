// The activations stage's look at held-out text: one pass of the subject model over validation windows gives the
// hook's activation spectrum (special tokens left out) and the model's next-token cross-entropy beside an add-k bigram
// fitted on the training windows, both scored on the same positions. See docs/science.md, "Activations".
using System.Text.Json.Nodes;
using TemporalSae.Analysis;
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Models.BuiltinLm;
using static TorchSharp.torch;

namespace TemporalSae.Activations;

public static class HeldoutAnalysis
{
    // Logits are [B, T, V]: with GPT-2's 50,257 ids a batch of 32 windows of 128 would hold 0.8 GB, so a forward pass
    // takes at most this many logits (64M floats, 256 MB) and fewer windows than activations.batch_size if need be.
    const long LogitBudget = 1L << 26;

    const string SpectrumNote =
        "token_id_variance_share and position_variance_share are in-sample: the group means are taken on these same " +
        "held-out tokens, so G groups over n tokens explain about (G - 1) / n of pure noise";

    const string CrossEntropyNote =
        "position t predicts the next token within a window; dropped when token t is special or the next token is the " +
        "unknown id of the subject model (one id for many GPT-2 ids); the bigram is scored on exactly these positions";

    /// <summary>
    /// Spectrum and cross-entropies for corpus token ids <paramref name="heldoutIds"/> [N, T] (int64) with their special
    /// flags <paramref name="special"/> [N, T] (bool), the bigram fitted on the corpus ids <paramref name="trainIds"/> [M, T].
    /// Runs <paramref name="batchSize"/> windows per forward pass, fewer when their logits would exceed LogitBudget.
    /// Returns the stage result's "spectrum" and "heldout_cross_entropy" objects.
    /// </summary>
    public static (JsonObject Spectrum, JsonObject CrossEntropy) Run(LoadedSubjectModel subject, int layer, Tensor heldoutIds,
        Tensor special, Tensor trainIds, int batchSize, Action<string>? log = null)
    {
        int windows = (int)heldoutIds.shape[0], contextSize = (int)heldoutIds.shape[1];
        if (windows == 0) throw new InvalidInputException("the validation split has no context window for the held-out analysis");
        batchSize = (int)Math.Clamp(LogitBudget / ((long)contextSize * subject.Model.VocabSize), 1, batchSize);
        long? unknownId = subject.Vocab?.UnknownId;
        var spectrum = new ActivationSpectrumAccumulator(subject.Model.DModel);
        var prev = new List<long>();
        var next = new List<long>();
        double modelNll = 0;
        long unknownTokens = 0, excludedUnknownTargets = 0;

        using (no_grad())
        {
            for (int start = 0; start < windows; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int rows = Math.Min(batchSize, windows - start);
                Tensor ids = subject.ToModelIds(heldoutIds.narrow(0, start, rows));          // [B, T]
                Tensor isSpecial = special.narrow(0, start, rows);
                ModelOutput output = subject.Model.Forward(ids, new ResidHook(layer));
                Tensor positions = arange(contextSize, dtype: ScalarType.Int64).expand(rows, contextSize);
                spectrum.Add(output.ResidPost!, isSpecial.logical_not(), ids, positions);

                Tensor inputs = ids.narrow(1, 0, contextSize - 1);                           // [B, T-1]
                Tensor targets = ids.narrow(1, 1, contextSize - 1);
                Tensor scored = isSpecial.narrow(1, 0, contextSize - 1).logical_not();
                Tensor unknownTarget = unknownId is long u ? targets.eq(u) : zeros_like(targets, ScalarType.Bool);
                if (unknownId is long unknown) unknownTokens += ids.eq(unknown).sum().item<long>();
                excludedUnknownTargets += scored.logical_and(unknownTarget).sum().item<long>();
                Tensor keep = scored.logical_and(unknownTarget.logical_not());

                // -log softmax at the target as logsumexp - logit, without a second [B, T-1, V] tensor.
                Tensor logits = output.Logits!.narrow(1, 0, contextSize - 1).to(ScalarType.Float32); // [B, T-1, V]
                Tensor nll = logits.logsumexp(-1) - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
                modelNll += nll[keep].to(ScalarType.Float64).sum().item<double>();
                prev.AddRange(inputs[keep].data<long>().ToArray());
                next.AddRange(targets[keep].data<long>().ToArray());
                if ((start / batchSize) % 20 == 0)
                    log?.Invoke($"[activations] held-out {start + rows}/{windows} windows");
            }
        }
        if (next.Count == 0)
            throw new RunFailedException("the held-out analysis found no next-token position to score; raise activations.heldout_tokens");

        double bigramCe, bigramK;
        using (var scope = NewDisposeScope())
            (bigramCe, bigramK) = NgramBaselines.Bigram(subject.ToModelIds(trainIds), [.. prev], [.. next], subject.Model.VocabSize);
        double modelCe = modelNll / next.Count;
        long heldoutTokens = (long)windows * contextSize;

        var spectrumJson = new JsonObject { ["split"] = "val", ["windows"] = windows };
        foreach (var (key, value) in spectrum.Result().ToJson().ToArray())
            spectrumJson[key] = value!.DeepClone();
        spectrumJson["note"] = SpectrumNote;
        var crossEntropy = new JsonObject
        {
            ["split"] = "val",
            ["positions"] = next.Count,
            ["model_cross_entropy"] = modelCe,
            ["bigram_cross_entropy"] = bigramCe,
            ["bigram_add_k"] = bigramK,
            ["ce_below_bigram"] = bigramCe - modelCe,
            ["unknown_tokens"] = unknownTokens,
            ["unknown_token_share"] = unknownTokens / (double)heldoutTokens,
            ["excluded_unknown_targets"] = excludedUnknownTargets,
            ["note"] = CrossEntropyNote,
        };
        return (spectrumJson, crossEntropy);
    }
}
