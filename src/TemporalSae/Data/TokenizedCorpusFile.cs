// Binary file format of a TokenizedCorpus, versioned and checksummed so a truncated or altered cache is detected.

using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

/// <summary>
/// Layout (all little-endian): 8-byte magic "TSAETOKC", uint32 format version, uint32 zero, int64 payload length,
/// 32-byte SHA-256 of the payload, then the payload: source key; source names; label names; each label's int32
/// source id; POS tags; documents (name, source id, label id, first token, token count, first sentence, sentence
/// count, word count, attribute count and key/value strings); token count N followed by the columns int32 token ids
/// [N], int32 document ids [N], int32 sentence ids [N], int16 label ids [N], int16 POS ids [N], uint8 special flags [N]. Strings are BinaryWriter's (7-bit length prefix, UTF-8).
/// </summary>
public static class TokenizedCorpusFile
{
    public const int FormatVersion = 2;
    const int HeaderSize = 8 + 4 + 4 + 8 + 32;
    static readonly byte[] Magic = "TSAETOKC"u8.ToArray();

    public static void Save(TokenizedCorpus corpus, string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the token file format is written on little-endian machines only");
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(corpus.SourceKey);
            WriteStrings(writer, corpus.Sources);
            WriteStrings(writer, corpus.Labels);
            foreach (int source in corpus.LabelSources) writer.Write(source);
            WriteStrings(writer, corpus.PosTags);
            writer.Write(corpus.Documents.Count);
            foreach (DocumentInfo d in corpus.Documents)
            {
                writer.Write(d.Name);
                writer.Write(d.SourceId);
                writer.Write(d.LabelId);
                writer.Write(d.FirstToken);
                writer.Write(d.TokenCount);
                writer.Write(d.FirstSentence);
                writer.Write(d.SentenceCount);
                writer.Write(d.WordCount);
                writer.Write(d.Attributes.Count);
                foreach (var (key, value) in d.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
                {
                    writer.Write(key);
                    writer.Write(value);
                }
            }
            TokenMetadata t = corpus.Tokens;
            writer.Write(t.Count);
            writer.Write(MemoryMarshal.AsBytes(t.TokenIds.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(t.DocumentIds.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(t.SentenceIds.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(t.LabelIds.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(t.PosIds.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(t.Special.AsSpan()));
        }
        ReadOnlySpan<byte> body = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        byte[] header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        BitConverter.TryWriteBytes(header.AsSpan(8), FormatVersion);
        BitConverter.TryWriteBytes(header.AsSpan(16), payload.Length);
        SHA256.HashData(body).CopyTo(header.AsSpan(24));
        byte[] bodyArray = body.ToArray();
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            stream.Write(bodyArray);
        });
    }

    public static TokenizedCorpus Load(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the token file format is read on little-endian machines only");
        if (!File.Exists(path)) throw new InvalidInputException($"tokenised corpus file {path} does not exist.");
        byte[] bytes = File.ReadAllBytes(path);
        string fix = "Delete it to rebuild it from the corpus.";
        if (bytes.Length < HeaderSize || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new InvalidInputException($"{path} is not a tokenised corpus file (bad magic or shorter than its header). {fix}");
        int version = BitConverter.ToInt32(bytes, 8);
        if (version != FormatVersion)
            throw new InvalidInputException($"{path} has token file format version {version}; this tool reads version {FormatVersion}. {fix}");
        long length = BitConverter.ToInt64(bytes, 16);
        if (length != bytes.Length - HeaderSize)
            throw new InvalidInputException($"{path} is truncated or padded: header says {length} payload bytes, file has {bytes.Length - HeaderSize}. {fix}");
        ReadOnlySpan<byte> body = bytes.AsSpan(HeaderSize);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(24, 32)))
            throw new InvalidInputException($"{path} is corrupted: the SHA-256 of its contents does not match its header. {fix}");

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, HeaderSize, bytes.Length - HeaderSize, writable: false), Encoding.UTF8);
            string sourceKey = reader.ReadString();
            string[] sources = ReadStrings(reader);
            string[] labels = ReadStrings(reader);
            int[] labelSources = labels.Select(_ => reader.ReadInt32()).ToArray();
            string[] posTags = ReadStrings(reader);
            int documentCount = reader.ReadInt32();
            if (documentCount < 0) throw new EndOfStreamException();
            var documents = new DocumentInfo[documentCount];
            for (int i = 0; i < documentCount; i++)
                documents[i] = new DocumentInfo(i, reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(),
                    reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), ReadAttributes(reader));
            int n = reader.ReadInt32();
            var tokens = new TokenMetadata(ReadArray<int>(reader, n), ReadArray<int>(reader, n), ReadArray<int>(reader, n),
                ReadArray<short>(reader, n), ReadArray<short>(reader, n), ReadArray<bool>(reader, n));
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidInputException($"{path}: {reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes after the token columns. {fix}");
            foreach (DocumentInfo d in documents)
                if (d.FirstToken < 0 || d.TokenCount < 0 || (long)d.FirstToken + d.TokenCount > n || d.LabelId < 0 || d.LabelId >= labels.Length
                    || d.SourceId < 0 || d.SourceId >= sources.Length || labelSources[d.LabelId] != d.SourceId)
                    throw new InvalidInputException($"{path}: document {d.Name} has an out-of-range token span, label or source. {fix}");
            return new TokenizedCorpus(sourceKey, sources, labels, labelSources, posTags, documents, tokens);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidInputException($"{path}: the payload ends before its declared contents. {fix}");
        }
    }

    static void WriteStrings(BinaryWriter writer, IReadOnlyList<string> values)
    {
        writer.Write(values.Count);
        foreach (string value in values) writer.Write(value);
    }

    static string[] ReadStrings(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1 << 20) throw new EndOfStreamException();
        var values = new string[count];
        for (int i = 0; i < count; i++) values[i] = reader.ReadString();
        return values;
    }

    static Dictionary<string, string> ReadAttributes(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1 << 10) throw new EndOfStreamException();
        var attributes = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++) attributes[reader.ReadString()] = reader.ReadString();
        return attributes;
    }

    static T[] ReadArray<T>(BinaryReader reader, int count) where T : unmanaged
    {
        if (count < 0) throw new EndOfStreamException();
        var values = new T[count];
        Span<byte> target = MemoryMarshal.AsBytes(values.AsSpan());
        if (reader.Read(target) != target.Length) throw new EndOfStreamException();
        return values;
    }
}
