// Held-out context windows for evaluations: token ids and per-token metadata of windows of a split, chosen by
// WindowSampling's stratified order up to a token budget, and served as batches with the tensors the subject model
// and the SAE need.
using TemporalSae.Data;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Evals;

public sealed class EvalWindows(TokenMetadata tokens, int count, int contextSize)
{
    public TokenMetadata Tokens { get; } = tokens;
    public int Count { get; } = count;
    public int ContextSize { get; } = contextSize;

    /// <summary>
    /// Windows of a split up to <paramref name="tokenBudget"/> tokens (at least one window): the first of the split's
    /// stratified order for <paramref name="seed"/> (<see cref="WindowSampling"/>), read in corpus order.
    /// </summary>
    public static EvalWindows FromSplit(PreparedData data, Split split, int contextSize, long tokenBudget, long seed)
    {
        ContextWindows windows = data.Windows(split, contextSize);
        int count = (int)Math.Clamp(tokenBudget / contextSize, 1, windows.Count);
        return Of(windows, WindowSampling.StratifiedOrder(windows, seed).Take(count));
    }

    /// <summary>The given windows, in corpus order.</summary>
    public static EvalWindows Of(ContextWindows windows, IEnumerable<int> chosen)
    {
        int[] sorted = chosen.Order().ToArray();
        return new EvalWindows(windows.Gather(sorted), sorted.Length, windows.ContextSize);
    }

    public IEnumerable<EvalBatch> Batches(int batchSize)
    {
        for (int start = 0; start < Count; start += batchSize)
        {
            int rows = Math.Min(batchSize, Count - start);
            yield return new EvalBatch(Tokens.Slice(start * ContextSize, rows * ContextSize), rows, ContextSize);
        }
    }
}

/// <summary>One batch of windows: the corpus tokenizer's ids, boundary ids and special flags as [B, T] tensors.</summary>
public sealed class EvalBatch
{
    public EvalBatch(TokenMetadata tokens, int rows, int contextSize)
    {
        Tokens = tokens;
        long[] shape = [rows, contextSize];
        TokenIds = tensor(tokens.TokenIds.Select(i => (long)i).ToArray(), shape);
        DocumentIds = tensor(tokens.DocumentIds.Select(i => (long)i).ToArray(), shape);
        SentenceIds = tensor(tokens.SentenceIds.Select(i => (long)i).ToArray(), shape);
        Special = tensor(tokens.Special, shape);
    }

    public TokenMetadata Tokens { get; }
    /// <summary>Ids of the corpus tokenizer (GPT-2's BPE or the subject model's own); the model's own ids via LoadedSubjectModel.ToModelIds.</summary>
    public Tensor TokenIds { get; }
    public Tensor DocumentIds { get; }
    public Tensor SentenceIds { get; }
    public Tensor Special { get; }

    /// <summary>Residual activations [B, T, d] of these windows as a sequence batch for an SAE.</summary>
    public ActivationBatch Activations(Tensor x) => new(x, DocumentIds, SentenceIds, Special);
}
