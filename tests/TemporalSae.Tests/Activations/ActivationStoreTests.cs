// Activation store: round trip in both dtypes, seeded sequence and token readers, integrity checks, failure modes.

using TemporalSae.Activations;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Activations;

public sealed class ActivationStoreTests : IDisposable
{
    const int T = 8, D = 16;
    readonly TempFolder folder = new("tsae-store-");

    public void Dispose() => folder.Dispose();

    /// <summary>Metadata whose values encode the sequence and position, so any row can be checked after shuffling.</summary>
    internal static TokenMetadata Labels(int firstSequence, int sequences, int contextSize)
    {
        var meta = TokenMetadata.Empty(sequences * contextSize);
        for (int s = 0; s < sequences; s++)
            for (int t = 0; t < contextSize; t++)
            {
                int seq = firstSequence + s;
                meta.Set(s * contextSize + t, 1000 + t, seq, 10 * seq + t / 4, (short)(seq % 3), (short)(t % 5), special: t == 0);
            }
        return meta;
    }

    /// <summary>Writes <paramref name="appends"/> batches of <paramref name="batch"/> random sequences; returns all data [S, T, d].</summary>
    Tensor Write(string path, ActivationDtype dtype, int appends, int batch, long seed = 1)
    {
        using var writer = ActivationStoreWriter.Create(path, D, T, dtype, ["g0", "g1", "g2"], ["none", "a", "b", "c", "d"]);
        var generator = new Generator((ulong)seed);
        var parts = new List<Tensor>();
        for (int a = 0; a < appends; a++)
        {
            Tensor x = randn([batch, T, D], generator: generator);
            writer.Append(x, Labels(a * batch, batch, T));
            parts.Add(x);
        }
        writer.Complete();
        return cat(parts, 0);
    }

    [Fact]
    public void Float32_store_round_trips_exactly_with_its_metadata()
    {
        string path = Path.Combine(folder, "s");
        using Tensor written = Write(path, ActivationDtype.Float32, appends: 3, batch: 4);
        using var store = ActivationStore.Open(path);
        Assert.Equal((12, T, D, 96L), (store.NumSequences, store.ContextSize, store.DModel, store.NumTokens));
        Assert.Equal(["g0", "g1", "g2"], store.Labels);
        var buffer = new float[T * D];
        store.ReadSequence(5, buffer);
        Assert.Equal(written[5].flatten().data<float>().ToArray(), buffer);
        Assert.Equal(Labels(0, 12, T).SentenceIds, store.Metadata.SentenceIds);
        store.VerifyActivations();
    }

    [Fact]
    public void BFloat16_store_matches_torch_rounding()
    {
        string path = Path.Combine(folder, "s");
        using Tensor written = Write(path, ActivationDtype.BFloat16, appends: 2, batch: 3);
        using var store = ActivationStore.Open(path);
        using Tensor expected = written.to(ScalarType.BFloat16).to(ScalarType.Float32);
        var buffer = new float[T * D];
        for (int s = 0; s < store.NumSequences; s++)
        {
            store.ReadSequence(s, buffer);
            Assert.Equal(expected[s].flatten().data<float>().ToArray(), buffer);
        }
        Assert.Equal(6L * T * D * 2, new FileInfo(Path.Combine(path, ActivationStore.ActivationsFile)).Length);
    }

    [Fact]
    public void Sequence_batches_visit_every_sequence_once_in_a_seeded_order()
    {
        string path = Path.Combine(folder, "s");
        using Tensor written = Write(path, ActivationDtype.Float32, appends: 5, batch: 2);
        using var store = ActivationStore.Open(path);
        using var scope = NewDisposeScope();
        var order = new List<long>();
        foreach (ActivationStoreBatch batch in store.SequenceBatches(batchSize: 3, seed: 7))
        {
            Assert.True(batch.Activations.IsSequence);
            long b = batch.Activations.X.shape[0];
            Assert.Equal([b, T, D], batch.Activations.X.shape);
            Assert.Equal([b, T], batch.Activations.DocumentIds!.shape);
            for (int i = 0; i < b; i++)
            {
                long sequence = batch.TokenIndices[i * T] / T;
                order.Add(sequence);
                Assert.Equal(written[sequence].data<float>().ToArray(), batch.Activations.X[i].data<float>().ToArray());
                Assert.Equal(sequence, batch.Activations.DocumentIds![i, 3].item<long>());
                Assert.Equal(10 * sequence + 1, batch.Activations.SentenceIds![i, 5].item<long>());
                Assert.True(batch.Activations.Special![i, 0].item<bool>());
                Assert.False(batch.Activations.Special![i, 1].item<bool>());
                Assert.Equal(sequence % 3, batch.LabelIds[i, 0].item<long>());
                Assert.Equal(1003L, batch.TokenIds[i, 3].item<long>());
            }
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 10).Select(i => (long)i), order);
        List<long> Order(long seed) => store.SequenceBatches(3, seed).SelectMany(b => b.TokenIndices.Where((_, i) => i % T == 0).Select(r => r / T)).ToList();
        Assert.Equal(order, Order(7));
        Assert.NotEqual(order, Order(8));
        Assert.Equal(3, store.SequenceBatches(3, 7, dropLast: true).Count());
    }

    [Fact]
    public void Token_batches_visit_every_token_once_mixed_across_sequences()
    {
        string path = Path.Combine(folder, "s");
        using Tensor written = Write(path, ActivationDtype.Float32, appends: 4, batch: 5);
        using var store = ActivationStore.Open(path);
        using var scope = NewDisposeScope();
        using Tensor flat = written.reshape(-1, D); // [S * T, d]
        var seen = new List<long>();
        var sizes = new List<long>();
        foreach (ActivationStoreBatch batch in store.TokenBatches(batchSize: 12, seed: 3, shuffleBufferTokens: 40))
        {
            Assert.False(batch.Activations.IsSequence);
            sizes.Add(batch.Activations.X.shape[0]);
            Tensor expected = flat.index_select(0, tensor(batch.TokenIndices));
            Assert.Equal(expected.data<float>().ToArray(), batch.Activations.X.data<float>().ToArray());
            for (int i = 0; i < batch.TokenIndices.Length; i++)
            {
                long row = batch.TokenIndices[i];
                Assert.Equal(row / T, batch.Activations.DocumentIds![i].item<long>());
                Assert.Equal(row % T == 0, batch.Activations.Special![i].item<bool>());
                Assert.Equal(row % T % 5, batch.PosIds[i].item<long>());
            }
            seen.AddRange(batch.TokenIndices);
        }
        Assert.Equal(Enumerable.Range(0, 160).Select(i => (long)i), seen.Order());
        Assert.Equal([.. Enumerable.Repeat(12L, 13), 4L], sizes);
        Assert.Equal(13, store.TokenBatches(12, 3, 40, dropLast: true).Count());
        // Tokens of one batch come from several sequences, not one sequence's run.
        Assert.True(store.TokenBatches(12, 3, 40).First().TokenIndices.Select(r => r / T).Distinct().Count() >= 3);
        Assert.Equal(seen, store.TokenBatches(12, 3, 40).SelectMany(b => b.TokenIndices));
        Assert.NotEqual(seen, store.TokenBatches(12, 4, 40).SelectMany(b => b.TokenIndices));
    }

    [Fact]
    public void Corrupted_or_truncated_files_are_detected_on_open()
    {
        string path = Path.Combine(folder, "s");
        Write(path, ActivationDtype.Float32, appends: 2, batch: 2).Dispose();
        string tokens = Path.Combine(path, ActivationStore.TokensFile);
        byte[] bytes = File.ReadAllBytes(tokens);
        bytes[10] ^= 1;
        File.WriteAllBytes(tokens, bytes);
        Assert.Contains("tokens.bin is corrupted", Assert.Throws<InvalidInputException>(() => ActivationStore.Open(path)).Message);

        Write(path, ActivationDtype.Float32, appends: 2, batch: 2).Dispose();
        string activations = Path.Combine(path, ActivationStore.ActivationsFile);
        using (var stream = new FileStream(activations, FileMode.Open)) stream.SetLength(stream.Length - 4);
        Assert.Contains("truncated", Assert.Throws<InvalidInputException>(() => ActivationStore.Open(path)).Message);

        Write(path, ActivationDtype.Float32, appends: 2, batch: 2).Dispose();
        bytes = File.ReadAllBytes(activations);
        bytes[100] ^= 1;
        File.WriteAllBytes(activations, bytes);
        using var store = ActivationStore.Open(path);
        Assert.Contains("activations.bin is corrupted", Assert.Throws<InvalidInputException>(store.VerifyActivations).Message);
    }

    [Fact]
    public void An_unfinished_store_is_never_published()
    {
        string path = Path.Combine(folder, "s");
        using (var writer = ActivationStoreWriter.Create(path, D, T, ActivationDtype.Float32))
            writer.Append(zeros(2, T, D), Labels(0, 2, T));
        Assert.Empty(Directory.GetFileSystemEntries(folder));
        Assert.Contains("not a complete activation store", Assert.Throws<InvalidInputException>(() => ActivationStore.Open(path)).Message);
    }

    [Fact]
    public void Non_finite_or_missing_activations_fail_the_run()
    {
        using var writer = ActivationStoreWriter.Create(Path.Combine(folder, "s"), D, T, ActivationDtype.Float32);
        Assert.Throws<RunFailedException>(writer.Complete);
        using Tensor x = zeros(1, T, D);
        x[0, 3, 2] = tensor(float.NaN);
        Assert.Throws<RunFailedException>(() => writer.Append(x, Labels(0, 1, T)));
        Assert.Throws<ArgumentException>(() => writer.Append(zeros(1, T + 1, D), Labels(0, 1, T + 1)));
    }
}
