// Tokenizer files written by the tests themselves, in the formats real checkpoints ship: a GPT-2 byte-level BPE
// (vocab.json + merges.txt) and a SentencePiece BPE model (tokenizer.model, the ModelProto protobuf) with Gemma's
// settings and byte fallback. Small enough to sit beside a tiny random model, general enough to encode any text.
// Shared with the CLI tests, which compile this file too.
using System.Text;
using System.Text.Json;
using Google.Protobuf;

namespace TemporalSae.Tests.Fixtures;

static class TinyTokenizers
{
    /// <summary>Pieces merged by both tiny tokenizers ('▁' / 'Ġ' mark a leading space), in merge order.</summary>
    static readonly string[] Words =
    [
        "th", "the", " the", "he", "in", "an", "and", " and", "er", "on", "re", " a", " o", " of", "at", "en", "ed", "es",
        " t", " s", " w", " c", "is", "it", "or", "ing", " in", " to", "ou", "al", ".", ",", "\n",
    ];

    /// <summary>
    /// GPT-2's byte-to-character table (bytes_to_unicode in GPT-2's encoder.py): printable bytes map to themselves,
    /// the others to code points from 256 up, so every byte has a visible character.
    /// </summary>
    public static char[] ByteChars()
    {
        var chars = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            chars[b] = printable ? (char)b : (char)next++;
        }
        return chars;
    }

    /// <summary>
    /// vocab.json and merges.txt of a byte-level BPE: the 256 byte tokens (ids 0-255), one token per merge of
    /// <see cref="Words"/> (ids 256..), then &lt;|endoftext|&gt; as the last id. Returns the vocabulary size.
    /// </summary>
    public static int WriteGpt2Bpe(string folder)
    {
        char[] byteChars = ByteChars();
        string Encode(string s) => new(Encoding.UTF8.GetBytes(s).Select(b => byteChars[b]).ToArray());
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[byteChars[b].ToString()] = b;
        var merges = new List<string> { "#version: 0.2" };
        foreach (string word in Words.Where(w => w.Length > 1))
        {
            // Merge the longest known prefix with the rest, which must be known too (Words is ordered for that).
            string encoded = Encode(word);
            for (int split = encoded.Length - 1; split >= 1; split--)
            {
                string left = encoded[..split], right = encoded[split..];
                if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right)) continue;
                if (vocab.ContainsKey(encoded)) break;
                merges.Add($"{left} {right}");
                vocab[encoded] = vocab.Count;
                break;
            }
        }
        vocab["<|endoftext|>"] = vocab.Count;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(folder, "merges.txt"), string.Join('\n', merges) + "\n");
        return vocab.Count;
    }

    public const int SentencePiecePad = 0, SentencePieceEos = 1, SentencePieceBos = 2, SentencePieceUnk = 3;

    /// <summary>
    /// A SentencePiece BPE tokenizer.model with Gemma's settings (pad 0, eos 1, bos 2, unk 3; no dummy prefix, extra
    /// whitespace kept, spaces escaped as '▁', byte fallback): the 4 special pieces, the 256 byte pieces &lt;0x00&gt;..
    /// (ids 4-259), the letters a-z and A-Z, then <see cref="Words"/> with scores falling in merge order. Characters
    /// outside the vocabulary (digits, punctuation, anything non-ASCII) come out as their UTF-8 bytes. Returns the
    /// vocabulary size.
    /// </summary>
    public static int WriteSentencePiece(string path, bool addDummyPrefix = false, bool removeExtraWhitespaces = false)
    {
        var pieces = new List<(string Piece, float Score, int Type)>
        {
            ("<pad>", 0, Control), ("<eos>", 0, Control), ("<bos>", 0, Control), ("<unk>", 0, Unknown),
        };
        for (int b = 0; b < 256; b++) pieces.Add(($"<0x{b:X2}>", 0, ByteType));
        var seen = new HashSet<string>();
        float score = 0;
        void Add(string piece)
        {
            if (seen.Add(piece)) pieces.Add((piece, score -= 1, Normal));
        }
        Add("▁");
        for (char c = 'a'; c <= 'z'; c++) Add(c.ToString());
        for (char c = 'A'; c <= 'Z'; c++) Add(c.ToString());
        foreach (string word in Words) Add(word.Replace(' ', '▁'));

        using var model = new MemoryStream();
        var output = new CodedOutputStream(model);
        foreach (var (piece, pieceScore, type) in pieces)
            WriteMessage(output, 1, o =>
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(piece);
                o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(pieceScore);
                o.WriteTag(3, WireFormat.WireType.Varint); o.WriteEnum(type);
            });
        WriteMessage(output, 2, o => // TrainerSpec
        {
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteEnum(2); // model_type: BPE
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt32(pieces.Count);
            o.WriteTag(35, WireFormat.WireType.Varint); o.WriteBool(true); // byte_fallback
            o.WriteTag(40, WireFormat.WireType.Varint); o.WriteInt32(SentencePieceUnk);
            o.WriteTag(41, WireFormat.WireType.Varint); o.WriteInt32(SentencePieceBos);
            o.WriteTag(42, WireFormat.WireType.Varint); o.WriteInt32(SentencePieceEos);
            o.WriteTag(43, WireFormat.WireType.Varint); o.WriteInt32(SentencePiecePad);
        });
        WriteMessage(output, 3, o => // NormalizerSpec
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("identity");
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteBool(addDummyPrefix);
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteBool(removeExtraWhitespaces);
            o.WriteTag(5, WireFormat.WireType.Varint); o.WriteBool(true); // escape_whitespaces
        });
        output.Flush();
        File.WriteAllBytes(path, model.ToArray());
        return pieces.Count;
    }

    const int Normal = 1, Unknown = 2, Control = 3, ByteType = 6;

    static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        using var body = new MemoryStream();
        var inner = new CodedOutputStream(body);
        write(inner);
        inner.Flush();
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(body.ToArray()));
    }
}
