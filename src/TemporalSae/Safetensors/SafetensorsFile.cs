// Reader for one .safetensors file (huggingface/safetensors format): an 8-byte little-endian header length N, N bytes
// of JSON mapping tensor name -> {dtype, shape, data_offsets: [begin, end)} (offsets relative to the end of the header)
// plus an optional "__metadata__" string map, then the raw little-endian tensor bytes. The file is memory-mapped, so
// opening reads only the header and each Load copies only that tensor's bytes.
using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Safetensors;

/// <summary>Where one tensor lives in a safetensors file.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, ScalarType ScalarType, long[] Shape, long Begin, long End);

public sealed class SafetensorsFile : IDisposable
{
    // A header larger than this is not a real checkpoint; the reference implementation uses the same 100 MB limit.
    const long MaxHeaderBytes = 100_000_000;

    readonly MemoryMappedFile? map;
    readonly MemoryMappedViewAccessor? view;
    readonly long dataStart;
    readonly Dictionary<string, SafetensorsEntry> entries;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> Entries => entries;

    SafetensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, long dataStart,
        List<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        this.map = map;
        this.view = view;
        this.dataStart = dataStart;
        this.entries = entries.ToDictionary(e => e.Name);
        Names = entries.Select(e => e.Name).ToArray();
        Metadata = metadata;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
            throw new InvalidInputException($"safetensors file '{path}' does not exist");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
            throw new InvalidInputException(
                $"safetensors file '{path}' is {fileLength} bytes, shorter than the 8-byte header length; the file is truncated or not safetensors");

        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength < 2 || headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
                throw new InvalidInputException(
                    $"safetensors file '{path}' declares a header of {headerLength} bytes, but the file has {fileLength - 8} bytes after the length field " +
                    $"(a header must be 2..{MaxHeaderBytes} bytes and fit in the file); the file is truncated or not safetensors");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }

        long dataStart = 8 + header.Length;
        long dataLength = fileLength - dataStart;
        var (entries, metadata) = ParseHeader(path, header, dataLength);

        if (dataLength == 0)
            return new SafetensorsFile(path, null, null, dataStart, entries, metadata);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
        return new SafetensorsFile(path, map, view, dataStart, entries, metadata);
    }

    static (List<SafetensorsEntry>, IReadOnlyDictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"safetensors file '{path}' has a header that is not valid JSON: {e.Message}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"safetensors file '{path}': the header must be a JSON object, found {doc.RootElement.ValueKind}");

            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidInputException($"safetensors file '{path}': __metadata__ must be an object of strings");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new InvalidInputException($"safetensors file '{path}': __metadata__ value '{m.Name}' must be a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, property.Name, property.Value, dataLength));
            }

            CheckNoOverlap(path, entries);
            return (entries, metadata);
        }
    }

    static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        string where = $"safetensors file '{path}', tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
            throw new InvalidInputException($"{where}: expected an object with \"dtype\" (string), \"shape\" (array) and \"data_offsets\" (array)");

        string dtype = dtypeElement.GetString()!;
        if (!SafetensorsDtype.TryParse(dtype, out var scalarType, out int elementBytes))
            throw new InvalidInputException(
                $"{where}: unsupported dtype '{dtype}' (supported: {string.Join(", ", SafetensorsDtype.Names)}); convert the checkpoint to one of these");

        var shape = new List<long>();
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new InvalidInputException($"{where}: shape must hold non-negative integers, found {shapeElement.GetRawText()}");
            shape.Add(dim);
        }

        long[] offsets = offsetsElement.EnumerateArray()
            .Select(o => o.ValueKind == JsonValueKind.Number && o.TryGetInt64(out long v) ? v : -1).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw new InvalidInputException($"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, found {offsetsElement.GetRawText()}");
        if (offsets[1] > dataLength)
            throw new InvalidInputException(
                $"{where}: data_offsets {offsetsElement.GetRawText()} run past the end of the data section ({dataLength} bytes); the file is truncated or corrupt");

        long elements = 1;
        foreach (long d in shape) elements = checked(elements * d);
        long expected = checked(elements * elementBytes);
        if (offsets[1] - offsets[0] != expected)
            throw new InvalidInputException(
                $"{where}: data_offsets cover {offsets[1] - offsets[0]} bytes but {dtype} shape [{string.Join(", ", shape)}] needs {expected}");

        return new SafetensorsEntry(name, dtype, scalarType, shape.ToArray(), offsets[0], offsets[1]);
    }

    static void CheckNoOverlap(string path, List<SafetensorsEntry> entries)
    {
        var ordered = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidInputException(
                    $"safetensors file '{path}': tensors '{ordered[i - 1].Name}' [{ordered[i - 1].Begin}, {ordered[i - 1].End}) and " +
                    $"'{ordered[i].Name}' [{ordered[i].Begin}, {ordered[i].End}) overlap; the file is corrupt");
    }

    public bool Contains(string name) => entries.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        entries.TryGetValue(name, out var entry)
            ? entry
            : throw new InvalidInputException($"safetensors file '{Path}' has no tensor '{name}'");

    /// <summary>Copies one tensor into a new CPU tensor of its stored dtype, converted to <paramref name="as"/> if given.</summary>
    public unsafe Tensor Load(string name, ScalarType? @as = null)
    {
        var entry = Entry(name);
        var tensor = empty(entry.Shape, entry.ScalarType);
        long count = entry.End - entry.Begin;
        if (count > 0)
        {
            byte* basePointer = null;
            var handle = view!.SafeMemoryMappedViewHandle;
            handle.AcquirePointer(ref basePointer);
            try
            {
                TensorBytes.CopyInto(tensor, basePointer + view.PointerOffset + dataStart + entry.Begin, count);
            }
            finally
            {
                handle.ReleasePointer();
            }
        }
        if (@as is { } target && target != entry.ScalarType)
        {
            var converted = tensor.to_type(target);
            tensor.Dispose();
            return converted;
        }
        return tensor;
    }

    public void Dispose()
    {
        view?.Dispose();
        map?.Dispose();
    }
}
