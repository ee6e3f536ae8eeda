// Round trips and every rejected malformed file of the safetensors reader and writer.
using System.Text;
using TemporalSae.Infrastructure;
using TemporalSae.Safetensors;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Tests.Models;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Safetensors;

public class SafetensorsTests
{
    static Dictionary<string, Tensor> Sample()
    {
        var g = new Generator(7, CPU);
        return new Dictionary<string, Tensor>
        {
            ["b.f32"] = randn([3, 5], generator: g),
            ["a.f16"] = randn([4], generator: g).to_type(ScalarType.Float16),
            ["c.bf16"] = randn([2, 2, 3], generator: g).to_type(ScalarType.BFloat16),
            ["d.ids"] = tensor(new long[] { 1, 50256, -3 }),
            ["e.empty"] = zeros(0, 4),
        };
    }

    [Fact]
    public void RoundTripKeepsValuesDtypesShapesAndMetadata()
    {
        using var dir = new TempFolder();
        var tensors = Sample();
        string path = dir.File("x.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        foreach (var (name, expected) in tensors)
        {
            using var loaded = file.Load(name);
            Assert.Equal(expected.dtype, loaded.dtype);
            Assert.Equal(expected.shape, loaded.shape);
            TensorAssert.Equal(expected, loaded, name);
        }
        Assert.Equal("BF16", file.Entry("c.bf16").Dtype);
        using var asFloat = file.Load("c.bf16", ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, asFloat.dtype);
        TensorAssert.Equal(tensors["c.bf16"].to_type(ScalarType.Float32), asFloat);
    }

    [Fact]
    public void EqualInputsGiveByteIdenticalFilesWithAlignedHeader()
    {
        using var dir = new TempFolder();
        var tensors = Sample();
        var reversed = tensors.Reverse().ToDictionary(kv => kv.Key, kv => kv.Value);
        SafetensorsWriter.Write(dir.File("1.safetensors"), tensors);
        SafetensorsWriter.Write(dir.File("2.safetensors"), reversed);
        byte[] a = File.ReadAllBytes(dir.File("1.safetensors")), b = File.ReadAllBytes(dir.File("2.safetensors"));
        Assert.Equal(a, b);
        Assert.Equal(0UL, BitConverter.ToUInt64(a, 0) % 8);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
    }

    [Fact]
    public void NonContiguousTensorIsWrittenInLogicalOrder()
    {
        using var dir = new TempFolder();
        using var x = arange(6, ScalarType.Float32).view(2, 3).t(); // [3, 2], non-contiguous
        SafetensorsWriter.Write(dir.File("t.safetensors"), new Dictionary<string, Tensor> { ["x"] = x });
        using var file = SafetensorsFile.Open(dir.File("t.safetensors"));
        using var loaded = file.Load("x");
        TensorAssert.Equal(x, loaded);
    }

    static string WriteRaw(TempFolder dir, string header, int dataBytes, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new List<byte>(BitConverter.GetBytes(declaredLength ?? (ulong)h.Length));
        bytes.AddRange(h);
        bytes.AddRange(new byte[dataBytes]);
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    static InvalidInputException Rejects(string path) => Assert.Throws<InvalidInputException>(() => SafetensorsFile.Open(path).Dispose());

    [Fact]
    public void RejectsHeaderLengthBeyondFile()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir, "{}", 0, declaredLength: 1000));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains("header of 1000 bytes", e.Message);
    }

    [Fact]
    public void RejectsTruncatedLengthField()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("bad.safetensors"), [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte", Rejects(dir.File("bad.safetensors")).Message);
    }

    [Fact]
    public void RejectsInvalidJson()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir, "{\"x\": {\"dtype\": ", 0));
        Assert.Contains("not valid JSON", e.Message);
        Assert.Contains("bad.safetensors", e.Message);
    }

    [Fact]
    public void RejectsUnknownDtypeNamingTheTensor()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir, "{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 2));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("F8_E4M3", e.Message);
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void RejectsOffsetsPastTheData()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir, "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void RejectsOffsetsThatDisagreeWithShape()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir, "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 16));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("needs 12", e.Message);
    }

    [Fact]
    public void RejectsOverlappingTensors()
    {
        using var dir = new TempFolder();
        var e = Rejects(WriteRaw(dir,
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12));
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlap", e.Message);
    }

    [Fact]
    public void RejectsNegativeOrReversedOffsetsAndBadShapes()
    {
        using var dir = new TempFolder();
        Assert.Contains("data_offsets must be", Rejects(WriteRaw(dir, "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", 8)).Message);
        Assert.Contains("shape must hold", Rejects(WriteRaw(dir, "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4)).Message);
        Assert.Contains("expected an object", Rejects(WriteRaw(dir, "{\"w\": 3}", 0)).Message);
        Assert.Contains("JSON object", Rejects(WriteRaw(dir, "[1, 2]", 0)).Message);
    }

    [Fact]
    public void MissingTensorNamesFileAndTensor()
    {
        using var dir = new TempFolder();
        SafetensorsWriter.Write(dir.File("m.safetensors"), new Dictionary<string, Tensor> { ["x"] = ones(2) });
        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        var e = Assert.Throws<InvalidInputException>(() => file.Load("y"));
        Assert.Contains("m.safetensors", e.Message);
        Assert.Contains("'y'", e.Message);
    }

    [Fact]
    public void ShardedCheckpointReadsEveryShard()
    {
        using var dir = new TempFolder();
        var tensors = Sample();
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var first = names.Take(2).ToDictionary(n => n, n => tensors[n]);
        var second = names.Skip(2).ToDictionary(n => n, n => tensors[n]);
        SafetensorsWriter.Write(dir.File("model-00001-of-00002.safetensors"), first);
        SafetensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"), second);
        WriteIndex(dir, first.Keys.Select(n => (n, "model-00001-of-00002.safetensors"))
            .Concat(second.Keys.Select(n => (n, "model-00002-of-00002.safetensors"))));

        using var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        var all = checkpoint.LoadAll();
        Assert.Equal(names, all.Keys);
        foreach (var n in names) TensorAssert.Equal(tensors[n], all[n], n);
    }

    [Fact]
    public void ShardedCheckpointReportsMissingShardsAndTensors()
    {
        using var dir = new TempFolder();
        SafetensorsWriter.Write(dir.File("s1.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(1) });
        WriteIndex(dir, [("a", "s1.safetensors"), ("b", "s1.safetensors"), ("c", "s2.safetensors")]);
        var e = Assert.Throws<InvalidInputException>(() => SafetensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Contains("'s2.safetensors' is listed but missing", e.Message);
        Assert.Contains("tensor 'b'", e.Message);
    }

    [Fact]
    public void FolderWithoutWeightsIsRejected()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<InvalidInputException>(() => SafetensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.Contains("model.safetensors", e.Message);
    }

    internal static void WriteIndex(TempFolder dir, IEnumerable<(string Tensor, string Shard)> map)
    {
        var entries = string.Join(",\n", map.Select(m => $"    \"{m.Tensor}\": \"{m.Shard}\""));
        File.WriteAllText(dir.File("model.safetensors.index.json"), $"{{\n  \"metadata\": {{\"total_size\": 0}},\n  \"weight_map\": {{\n{entries}\n  }}\n}}\n");
    }
}
