// A SentencePiece tokenizer.model (Gemma-2's) as a corpus tokenizer. Microsoft.ML.Tokenizers reports offsets in
// SentencePiece's normalised text (spaces escaped as '▁', maybe a dummy '▁' prefix, maybe runs of whitespace
// collapsed), and with byte fallback it gives a character's first byte token the character's span and the other
// byte tokens empty spans. Both are mapped here so every span indexes the original text and covers what it encodes.
using Microsoft.ML.Tokenizers;
using TemporalSae.Infrastructure;

namespace TemporalSae.Tokenizers;

public sealed class SentencePieceTextTokenizer : ITextTokenizer
{
    /// <summary>SentencePiece's escaped space.</summary>
    public const char Space = '\u2581';

    readonly SentencePieceTokenizer tokenizer;
    readonly string path;

    SentencePieceTextTokenizer(SentencePieceTokenizer tokenizer, string path)
    {
        this.tokenizer = tokenizer;
        this.path = path;
        if (tokenizer.BeginningOfSentenceId < 0)
            throw new InvalidInputException($"{path} defines no BOS piece (trainer_spec.bos_id is -1); windows start with the model's BOS, so the tokenizer must have one.");
        if (tokenizer.TreatWhitespaceAsSuffix)
            throw new InvalidInputException($"{path} treats whitespace as a suffix (treat_whitespace_as_suffix); its offsets cannot be mapped back to the text here. Use the model's own tokenizer.model.");
        VocabularySize = tokenizer.Vocabulary.Values.Max() + 1;
        BosToken = tokenizer.Vocabulary.FirstOrDefault(kv => kv.Value == BosId).Key ?? tokenizer.BeginningOfSentenceToken;
    }

    /// <summary>The tokenizer in <paramref name="path"/>, adding neither BOS nor EOS (windows add BOS themselves).</summary>
    public static SentencePieceTextTokenizer Load(string path)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        SentencePieceTokenizer tokenizer = Gemma2Tokenizer.TryLoad(folder) as SentencePieceTokenizer
            ?? throw new InvalidInputException($"{path} does not exist; a SentencePiece tokenizer is read from tokenizer.model in the checkpoint folder.");
        return new SentencePieceTextTokenizer(tokenizer, path);
    }

    /// <summary>The vocabulary's piece for an id ('▁' for a space, "&lt;0xNN&gt;" for a byte).</summary>
    public string PieceOf(int id)
    {
        pieces ??= tokenizer.Vocabulary.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        return pieces[id];
    }

    Dictionary<int, string>? pieces;

    /// <summary>The piece with '▁' as a space; a byte piece stays "&lt;0xNN&gt;" (neither a letter nor blank).</summary>
    public string TokenText(int id) => PieceOf(id).Replace(Space, ' ');

    public string Kind => "sentencepiece";
    public int BosId => tokenizer.BeginningOfSentenceId;
    public string BosToken { get; }
    public int VocabularySize { get; }

    public TextToken[] EncodeWithOffsets(string text)
    {
        IReadOnlyList<EncodedToken> tokens = tokenizer.EncodeToTokens(text, out string? normalized, addBeginningOfSentence: false, addEndOfSentence: false);
        var map = NormalizedOffsets.Align(text, normalized ?? text, path);
        var result = new TextToken[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            (int offset, int length) = tokens[i].Offset.GetOffsetAndLength((normalized ?? text).Length);
            result[i] = new TextToken(tokens[i].Id, map.Start(offset), length == 0 ? map.Start(offset) : map.End(offset + length - 1));
        }
        WidenByteRuns(result);
        return result;
    }

    /// <summary>
    /// Byte-fallback tokens of one character: the first carries the character's span, the rest come empty at its
    /// start. Each empty token takes the span of the non-empty token it follows, so all bytes of a character get the
    /// character's metadata (an empty span would overlap no word and lose its POS tag).
    /// </summary>
    static void WidenByteRuns(TextToken[] tokens)
    {
        for (int i = 1; i < tokens.Length; i++)
            if (tokens[i].Start == tokens[i].End && tokens[i - 1].Start == tokens[i].Start)
                tokens[i] = tokens[i] with { End = tokens[i - 1].End };
    }
}

/// <summary>
/// Maps positions of SentencePiece's normalised text back to the original: for normalised character j, the original
/// index where it starts and the one after it ends. Follows the three changes a whitespace-only normaliser makes:
/// ' ' written as '▁', a '▁' inserted (the dummy prefix: empty in the original), whitespace removed (collapsed runs,
/// trimmed ends). Anything else (a Unicode normalisation rule that rewrites characters) is refused with the file named.
/// </summary>
public sealed class NormalizedOffsets
{
    readonly int[] start, end;
    readonly int originalLength;

    NormalizedOffsets(int[] start, int[] end, int originalLength)
    {
        this.start = start;
        this.end = end;
        this.originalLength = originalLength;
    }

    /// <summary>Original index where normalised character j starts (j = normalised length gives the original's length).</summary>
    public int Start(int j) => j < start.Length ? start[j] : originalLength;

    /// <summary>Original index just after normalised character j.</summary>
    public int End(int j) => end[j];

    public static NormalizedOffsets Align(string original, string normalized, string tokenizerPath)
    {
        var start = new int[normalized.Length];
        var end = new int[normalized.Length];
        int i = 0;
        for (int j = 0; j < normalized.Length; j++)
        {
            char n = normalized[j];
            // Whitespace the normaliser dropped comes before what it kept; skip it unless it is what j stands for.
            while (i < original.Length && !Same(n, original[i]) && char.IsWhiteSpace(original[i])) i++;
            if (i < original.Length && Same(n, original[i]))
            {
                start[j] = i;
                end[j] = ++i;
            }
            else if (n == SentencePieceTextTokenizer.Space)
            {
                start[j] = end[j] = i; // an inserted '▁' covers nothing of the original
            }
            else
            {
                throw new InvalidInputException(
                    $"{tokenizerPath} normalises text beyond whitespace (character {j} of the normalised text, '{n}', does not come from " +
                    $"character {i} of the original); token offsets cannot be mapped back to the text, so per-token metadata cannot be aligned. " +
                    "Use a tokenizer.model whose normalizer is identity (as Gemma-2's), or data.tokenizer: gpt2.");
            }
        }
        for (; i < original.Length; i++)
            if (!char.IsWhiteSpace(original[i]))
                throw new InvalidInputException($"{tokenizerPath} dropped non-whitespace text at character {i} while normalising; token offsets cannot be mapped back to the text.");
        return new NormalizedOffsets(start, end, original.Length);
    }

    static bool Same(char normalized, char original) => normalized == original || (normalized == SentencePieceTextTokenizer.Space && original == ' ');
}
