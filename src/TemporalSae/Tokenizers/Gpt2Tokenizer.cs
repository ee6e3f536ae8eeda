// GPT-2's byte-level BPE via Microsoft.ML.Tokenizers' CodeGenTokenizer (same vocabulary, merges and pre-tokenizer
// regex as GPT-2; "Hello world" -> 15496, 995), reading encoder.json and vocab.bpe.

using Microsoft.ML.Tokenizers;
using TemporalSae.Data;
using TemporalSae.Infrastructure;

namespace TemporalSae.Tokenizers;

/// <summary>A BPE token of a text: its id and its [Start, End) character span in that text.</summary>
public readonly record struct TextToken(int Id, int Start, int End);

/// <summary>GPT-2 tokenisation with character offsets; no prefix space and no BOS/EOS added implicitly.</summary>
public sealed class Gpt2Tokenizer
{
    /// <summary>&lt;|endoftext|&gt;: GPT-2's document separator, used here as BOS of every context window.</summary>
    public const int EndOfText = 50256;

    public const int VocabularySize = 50257;

    readonly CodeGenTokenizer tokenizer;

    Gpt2Tokenizer(CodeGenTokenizer tokenizer) => this.tokenizer = tokenizer;

    public static Gpt2Tokenizer Load(string vocabPath, string mergesPath)
    {
        try
        {
            using var vocab = File.OpenRead(vocabPath);
            using var merges = File.OpenRead(mergesPath);
            return new Gpt2Tokenizer(CodeGenTokenizer.Create(vocab, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new InvalidInputException($"could not read GPT-2 BPE files {vocabPath} and {mergesPath}: {e.Message}");
        }
    }

    public static Gpt2Tokenizer Load(DataFiles files) => Load(files.VocabPath, files.MergesPath);

    public IReadOnlyList<int> EncodeToIds(string text) =>
        tokenizer.EncodeToIds(text, addPrefixSpace: false, addBeginningOfSentence: false, addEndOfSentence: false);

    /// <summary>Tokens with spans in <paramref name="text"/> (the tokenizer has no normaliser, so spans index the input).</summary>
    public TextToken[] EncodeWithOffsets(string text)
    {
        IReadOnlyList<EncodedToken> tokens = tokenizer.EncodeToTokens(text, addPrefixSpace: false, addBeginningOfSentence: false,
            addEndOfSentence: false, out string? normalized);
        if (normalized is not null && normalized != text)
            throw new InvalidOperationException("the GPT-2 tokenizer normalised its input; character offsets would not match the text");
        var result = new TextToken[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            (int offset, int length) = tokens[i].Offset.GetOffsetAndLength(text.Length);
            result[i] = new TextToken(tokens[i].Id, offset, offset + length);
        }
        return result;
    }

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids) ?? "";
}
