// Context windows: each starts with <|endoftext|>, consecutive and non-overlapping over the stream, never two BOS.

using TemporalSae.Data;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Data;

public class ContextWindowsTests
{
    /// <summary>Documents of the given lengths, each opened by a separator, token ids 1.. in order.</summary>
    static TokenMetadata Stream(params int[] documentLengths)
    {
        var stream = TokenMetadata.Empty(documentLengths.Sum() + documentLengths.Length);
        int p = 0, next = 1;
        for (int d = 0; d < documentLengths.Length; d++)
        {
            stream.Set(p++, Gpt2Tokenizer.EndOfText, d, 10 * d, 3, TokenizedCorpus.NoPos, special: true);
            for (int t = 0; t < documentLengths[d]; t++) stream.Set(p++, next++, d, 10 * d + t / 2, 3, 5, special: false);
        }
        return stream;
    }

    [Fact]
    public void Windows_start_with_bos_and_take_the_next_tokens_of_the_stream()
    {
        // Stream: E 1 2 3 4 5 6 E 7 8 | windows of 4: [E 1 2 3] [E 4 5 6] [E 7 8 ...] dropped (too short).
        ContextWindows windows = ContextWindows.Cut(Stream(6, 2), 4, Gpt2Tokenizer.EndOfText);
        Assert.Equal(2, windows.Count);
        Assert.Equal([50256, 1, 2, 3, 50256, 4, 5, 6], windows.Tokens.TokenIds);
        Assert.Equal([true, false, false, false, true, false, false, false], windows.Tokens.Special);
        // The inserted BOS carries the metadata of the token it precedes.
        Assert.Equal(0, windows.Tokens.DocumentIds[4]);
        Assert.Equal(1, windows.Tokens.SentenceIds[4]);
        Assert.Equal(TokenizedCorpus.NoPos, windows.Tokens.PosIds[4]);
    }

    [Fact]
    public void A_window_that_reaches_a_separator_uses_it_as_its_bos()
    {
        // Stream: E 1 2 E 3 4 5 6 | windows of 3: [E 1 2] [E 3 4] [E 5 6].
        ContextWindows windows = ContextWindows.Cut(Stream(2, 4), 3, Gpt2Tokenizer.EndOfText);
        Assert.Equal([50256, 1, 2, 50256, 3, 4, 50256, 5, 6], windows.Tokens.TokenIds);
        Assert.Equal([0, 0, 0, 1, 1, 1, 1, 1, 1], windows.Tokens.DocumentIds);
        for (int w = 0; w < windows.Count; w++)
            Assert.Equal(1, Enumerable.Range(w * 3, 3).Count(i => windows.Tokens.Special[i]));
    }

    [Fact]
    public void Real_training_split_cuts_into_whole_windows()
    {
        PreparedData data = BrownData.Data;
        ContextWindows windows = data.Windows(Split.Train, 128);
        Assert.Equal(8_018, windows.Count);
        for (int w = 0; w < windows.Count; w += 97)
            Assert.Equal(Gpt2Tokenizer.EndOfText, windows.Tokens.TokenIds[w * 128]);
    }
}
