// Cuts a split's token stream into fixed-length context windows that start with the tokenizer's BOS (GPT-2:
// <|endoftext|>, Gemma-2: <bos>), the way the models saw text in training and the way SAELens batches it (prepend
// BOS, never two BOS in a row).

namespace TemporalSae.Data;

/// <summary>
/// <see cref="Count"/> windows of <see cref="ContextSize"/> tokens, flattened row-major in <see cref="Tokens"/>
/// ([Count * ContextSize]). Windows are consecutive and non-overlapping over the stream: from the current stream
/// position p, if stream[p] is already the BOS the window is stream[p, p+T); otherwise it is a BOS (special,
/// POS "none", document/sentence/label of stream[p]) followed by stream[p, p+T-1).
/// The stream position then moves past the tokens taken; a final partial window is dropped.
/// </summary>
public sealed class ContextWindows
{
    ContextWindows(TokenMetadata tokens, int count, int contextSize)
    {
        Tokens = tokens;
        Count = count;
        ContextSize = contextSize;
    }

    public TokenMetadata Tokens { get; }
    public int Count { get; }
    public int ContextSize { get; }

    public static ContextWindows Cut(TokenMetadata stream, int contextSize, int bosId)
    {
        if (contextSize < 2) throw new ArgumentOutOfRangeException(nameof(contextSize), "a context window needs at least 2 tokens");
        var starts = new List<(int Position, bool AddBos)>();
        int p = 0;
        while (p < stream.Count)
        {
            bool startsWithBos = stream.Special[p] && stream.TokenIds[p] == bosId;
            int take = startsWithBos ? contextSize : contextSize - 1;
            if (p + take > stream.Count) break;
            starts.Add((p, !startsWithBos));
            p += take;
        }
        var tokens = TokenMetadata.Empty(starts.Count * contextSize);
        for (int w = 0; w < starts.Count; w++)
        {
            (int position, bool addBos) = starts[w];
            int offset = w * contextSize;
            if (addBos)
            {
                tokens.Set(offset, bosId, stream.DocumentIds[position], stream.SentenceIds[position],
                    stream.LabelIds[position], TokenizedCorpus.NoPos, special: true);
                stream.CopyTo(position, tokens, offset + 1, contextSize - 1);
            }
            else
            {
                stream.CopyTo(position, tokens, offset, contextSize);
            }
        }
        return new ContextWindows(tokens, starts.Count, contextSize);
    }

    /// <summary>The windows with the given indices, in that order, as one flattened metadata block.</summary>
    public TokenMetadata Gather(IReadOnlyList<int> windows)
    {
        var gathered = TokenMetadata.Empty(windows.Count * ContextSize);
        for (int i = 0; i < windows.Count; i++)
            Tokens.CopyTo(windows[i] * ContextSize, gathered, i * ContextSize, ContextSize);
        return gathered;
    }

    /// <summary>All windows' token ids as an int64 tensor [Count, ContextSize].</summary>
    public TorchSharp.torch.Tensor TokenIdTensor() =>
        TorchSharp.torch.tensor(Tokens.TokenIds.Select(id => (long)id).ToArray(), [Count, ContextSize]);
}
