// Writer for the safetensors format (huggingface/safetensors). Tensors are written in sorted name order with their
// data packed in that order, and the header is padded with spaces to a multiple of 8 bytes as the reference writer
// does, so equal inputs give byte-identical files. The file appears atomically (AtomicFile).
using System.Text.Json;
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Safetensors;

public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        foreach (var name in names)
        {
            if (name == "__metadata__")
                throw new ArgumentException("'__metadata__' is reserved in safetensors and cannot name a tensor");
            var type = tensors[name].dtype;
            if (SafetensorsDtype.NameOf(type) is null)
                throw new ArgumentException(
                    $"tensor '{name}' has dtype {type}, which safetensors files here cannot hold (supported: {string.Join(", ", SafetensorsDtype.Names)})");
        }

        byte[] header = BuildHeader(tensors, names, metadata);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            foreach (var name in names)
            {
                using var scope = NewDisposeScope();
                var cpu = tensors[name].detach().cpu().contiguous();
                TensorBytes.WriteTo(cpu, stream);
            }
        });
    }

    static byte[] BuildHeader(IReadOnlyDictionary<string, Tensor> tensors, string[] names, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var key in metadata.Keys.OrderBy(k => k, StringComparer.Ordinal))
                    json.WriteString(key, metadata[key]);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in names)
            {
                var tensor = tensors[name];
                long bytes = tensor.numel() * SafetensorsDtype.ElementBytes(tensor.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDtype.NameOf(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (long d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        byte[] raw = buffer.ToArray();
        var header = new byte[(raw.Length + 7) / 8 * 8];
        raw.CopyTo(header, 0);
        header.AsSpan(raw.Length).Fill((byte)' ');
        return header;
    }
}
