// What the data stage needs of a tokenizer: ids with character spans in the original text (so per-token metadata can
// be aligned by offsets) and the BOS id the model expects at the start of every window.

namespace TemporalSae.Tokenizers;

/// <summary>A token of a text: its id and its [Start, End) character span in that text.</summary>
public readonly record struct TextToken(int Id, int Start, int End);

public interface ITextTokenizer
{
    /// <summary>"gpt2_bpe" (byte-level BPE, vocab.json + merges.txt) or "sentencepiece" (tokenizer.model).</summary>
    string Kind { get; }

    /// <summary>The id every context window starts with (GPT-2: &lt;|endoftext|&gt;, Gemma-2: &lt;bos&gt;).</summary>
    int BosId { get; }

    /// <summary>The BOS token's text, for records and messages.</summary>
    string BosToken { get; }

    /// <summary>Ids in the tokenizer's vocabulary (the largest id plus one).</summary>
    int VocabularySize { get; }

    /// <summary>The text's tokens, no BOS or EOS added, with spans in <paramref name="text"/> as given.</summary>
    TextToken[] EncodeWithOffsets(string text);

    /// <summary>One token's text with its leading space, if any, as a space (what evaluations read of a token's shape).</summary>
    string TokenText(int id);
}
