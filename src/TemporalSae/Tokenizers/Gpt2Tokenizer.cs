// GPT-2's byte-level BPE via Microsoft.ML.Tokenizers' CodeGenTokenizer (same vocabulary, merges and pre-tokenizer
// regex as GPT-2; "Hello world" -> 15496, 995), reading encoder.json and vocab.bpe.

using Microsoft.ML.Tokenizers;
using TemporalSae.Data;
using TemporalSae.Infrastructure;

namespace TemporalSae.Tokenizers;

/// <summary>GPT-2 tokenisation with character offsets; no prefix space and no BOS/EOS added implicitly.</summary>
public sealed class Gpt2Tokenizer : ITextTokenizer
{
    /// <summary>&lt;|endoftext|&gt; in GPT-2's own vocabulary: its document separator, used as BOS of every context window.</summary>
    public const int EndOfText = 50256;

    public const string EndOfTextToken = "<|endoftext|>";

    /// <summary>GPT-2's vocabulary size.</summary>
    public const int VocabularySize = 50257;

    readonly CodeGenTokenizer tokenizer;

    Gpt2Tokenizer(CodeGenTokenizer tokenizer, string vocabPath)
    {
        this.tokenizer = tokenizer;
        // A checkpoint's vocab.json need not be GPT-2's own, so the BOS id is looked up, not assumed.
        if (!tokenizer.Vocabulary.TryGetValue(EndOfTextToken, out int bos))
            throw new InvalidInputException($"{vocabPath} has no {EndOfTextToken} token; GPT-2-style windows start with it, so a byte-level BPE vocabulary must hold it.");
        BosId = bos;
        vocabularySize = tokenizer.Vocabulary.Values.Max() + 1;
    }

    public string Kind => "gpt2_bpe";
    public int BosId { get; }
    public string BosToken => EndOfTextToken;

    // Explicit: the name VocabularySize is GPT-2's constant.
    readonly int vocabularySize;
    int ITextTokenizer.VocabularySize => vocabularySize;

    /// <summary>
    /// GPT-2's tokenizer, or with <paramref name="vocabularySize"/> below 50,257 GPT-2's BPE cut to its first
    /// vocabularySize - 1 tokens: the 256 byte tokens and the first vocabularySize - 257 merges in GPT-2's merge order,
    /// plus &lt;|endoftext|&gt;. Every text still encodes (byte-level BPE needs no unknown token) and every id is the GPT-2
    /// id of the same string, so a smaller model sees the same ids as GPT-2 with rarer words spelt in more pieces.
    /// </summary>
    public static Gpt2Tokenizer Load(string vocabPath, string mergesPath, int vocabularySize = VocabularySize)
    {
        if (vocabularySize is < MinimumVocabularySize or > VocabularySize)
            throw new InvalidInputException($"data.bpe_vocab: {vocabularySize} is outside {MinimumVocabularySize}..{VocabularySize} (256 bytes, at least one merge, <|endoftext|>).");
        try
        {
            using Stream vocab = vocabularySize == VocabularySize ? File.OpenRead(vocabPath) : CutVocabulary(vocabPath, vocabularySize);
            using Stream merges = vocabularySize == VocabularySize ? File.OpenRead(mergesPath) : CutMerges(mergesPath, vocabularySize - 257);
            return new Gpt2Tokenizer(CodeGenTokenizer.Create(vocab, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false), vocabPath);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new InvalidInputException($"could not read GPT-2 BPE files {vocabPath} and {mergesPath}: {e.Message}");
        }
    }

    public static Gpt2Tokenizer Load(DataFiles files, int vocabularySize = VocabularySize) => Load(files.VocabPath, files.MergesPath, vocabularySize);

    public const int MinimumVocabularySize = 258;

    /// <summary>encoder.json with only the ids below <paramref name="size"/> - 1 and &lt;|endoftext|&gt;.</summary>
    static MemoryStream CutVocabulary(string path, int size)
    {
        var all = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(path))
            ?? throw new InvalidInputException($"{path} must hold a JSON object of token -> id.");
        var kept = all.Where(kv => kv.Value < size - 1 || kv.Value == EndOfText).ToDictionary(kv => kv.Key, kv => kv.Value);
        return new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(kept));
    }

    /// <summary>vocab.bpe's version line and its first <paramref name="count"/> merges.</summary>
    static MemoryStream CutMerges(string path, int count)
    {
        var lines = File.ReadLines(path).Where(l => l.Length > 0);
        var kept = lines.Take(1).Concat(lines.Skip(1).Where(l => !l.StartsWith("#version", StringComparison.Ordinal)).Take(count));
        return new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', kept) + "\n"));
    }

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

    public string TokenText(int id) => Decode([id]);
}
