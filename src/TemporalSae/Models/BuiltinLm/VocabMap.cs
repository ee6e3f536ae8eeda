// The built-in model's reduced vocabulary: the most frequent GPT-2 ids of the training split keep their own model id
// (ordered by frequency, ties by GPT-2 id), every other GPT-2 id maps to one unknown id (the last model id). Saved
// beside the checkpoint as vocab_map.json so token ids convert in both directions.
using System.Text.Json;
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Models.BuiltinLm;

public sealed class VocabMap
{
    public const string FileName = "vocab_map.json";

    /// <summary>GPT-2's &lt;|endoftext|&gt;: always kept when it occurs, because windows start with it.</summary>
    public const long EndOfText = 50256;

    /// <summary>What ToGpt2 gives for the unknown id, which stands for many GPT-2 ids.</summary>
    public const long UnknownGpt2Id = -1;

    readonly long[] gpt2Ids;
    readonly Dictionary<long, long> modelIdOf;

    /// <summary>GPT-2 id of each kept model id 0..Size-2.</summary>
    public IReadOnlyList<long> Gpt2Ids => gpt2Ids;

    /// <summary>Model vocabulary size: the kept ids plus the unknown id.</summary>
    public int Size => gpt2Ids.Length + 1;

    public long UnknownId => gpt2Ids.Length;

    public VocabMap(IReadOnlyList<long> gpt2Ids)
    {
        this.gpt2Ids = gpt2Ids.ToArray();
        modelIdOf = new Dictionary<long, long>(gpt2Ids.Count);
        for (int i = 0; i < gpt2Ids.Count; i++)
            if (gpt2Ids[i] < 0 || !modelIdOf.TryAdd(gpt2Ids[i], i))
                throw new InvalidInputException($"vocabulary map: GPT-2 id {gpt2Ids[i]} is negative or listed twice");
    }

    /// <summary>Keeps the <paramref name="vocab"/> - 1 most frequent ids of <paramref name="trainIds"/> (any shape, int64).</summary>
    public static VocabMap Build(Tensor trainIds, int vocab)
    {
        if (vocab < 2) throw new InvalidInputException($"the built-in model's vocab must be at least 2 (one kept id and the unknown id), got {vocab}");
        var counts = new Dictionary<long, long>();
        foreach (long id in trainIds.reshape(-1).data<long>())
            counts[id] = counts.GetValueOrDefault(id) + 1;
        var ranked = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key).ToList();
        var kept = ranked.Take(vocab - 1).ToList();
        if (counts.ContainsKey(EndOfText) && !kept.Contains(EndOfText))
        {
            kept.RemoveAt(kept.Count - 1);
            kept.Add(EndOfText);
        }
        return new VocabMap(kept);
    }

    /// <summary>GPT-2 ids (any shape, int64) to model ids; ids outside the kept set become UnknownId.</summary>
    public Tensor ToModel(Tensor gpt2Ids)
    {
        using var scope = NewDisposeScope();
        var flat = gpt2Ids.reshape(-1).data<long>().ToArray();
        var mapped = new long[flat.Length];
        for (int i = 0; i < flat.Length; i++) mapped[i] = modelIdOf.TryGetValue(flat[i], out long m) ? m : UnknownId;
        return tensor(mapped, ScalarType.Int64).reshape(gpt2Ids.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Model ids (any shape, int64) to GPT-2 ids; the unknown id becomes UnknownGpt2Id.</summary>
    public Tensor ToGpt2(Tensor modelIds)
    {
        using var scope = NewDisposeScope();
        var flat = modelIds.reshape(-1).data<long>().ToArray();
        var mapped = new long[flat.Length];
        for (int i = 0; i < flat.Length; i++)
        {
            if (flat[i] < 0 || flat[i] > UnknownId)
                throw new InvalidInputException($"model id {flat[i]} is outside the built-in vocabulary 0..{UnknownId}");
            mapped[i] = flat[i] == UnknownId ? UnknownGpt2Id : gpt2Ids[flat[i]];
        }
        return tensor(mapped, ScalarType.Int64).reshape(modelIds.shape).MoveToOuterDisposeScope();
    }

    public void Save(string folder)
    {
        var json = JsonSerializer.Serialize(new { unknown_id = UnknownId, gpt2_ids = gpt2Ids });
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), json + "\n");
    }

    /// <summary>The map saved in a checkpoint folder, or null when the folder has none (a real GPT-2 vocabulary).</summary>
    public static VocabMap? TryLoad(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var ids = doc.RootElement.GetProperty("gpt2_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var map = new VocabMap(ids);
            if (doc.RootElement.GetProperty("unknown_id").GetInt64() != map.UnknownId)
                throw new InvalidInputException($"'{path}': unknown_id must equal the number of kept ids ({map.UnknownId})");
            return map;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"'{path}' must be {{\"unknown_id\": n, \"gpt2_ids\": [n GPT-2 ids]}}: {e.Message}");
        }
    }
}
