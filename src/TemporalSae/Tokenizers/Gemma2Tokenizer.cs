// The SentencePiece tokenizer shipped in a Gemma-2 checkpoint folder (tokenizer.model), read with
// Microsoft.ML.Tokenizers' SentencePieceTokenizer. A folder without it still serves models given token ids directly.
using Microsoft.ML.Tokenizers;
using TemporalSae.Infrastructure;

namespace TemporalSae.Tokenizers;

public static class Gemma2Tokenizer
{
    public const string ModelFileName = "tokenizer.model";

    /// <summary>The folder's tokenizer, adding neither BOS nor EOS (Gemma expects BOS first: prepend
    /// Gemma2Config.BosTokenId where a sequence starts), or null when the folder has no tokenizer.model.</summary>
    public static Tokenizer? TryLoad(string folder)
    {
        string path = Path.Combine(folder, ModelFileName);
        if (!File.Exists(path)) return null;
        using FileStream stream = File.OpenRead(path);
        try
        {
            return SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or FormatException
                                      || e is Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new InvalidInputException(
                $"'{path}' is not a SentencePiece model this reader understands ({e.Message}); " +
                "use the tokenizer.model that came with the checkpoint, or remove it and pass token ids.");
        }
    }
}
