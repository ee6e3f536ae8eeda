// Reading a store keeps resident memory bounded: a store 100 times a batch is streamed for several epochs while
// VmRSS is sampled after every batch.

using TemporalSae.Activations;
using TemporalSae.Tests.Fixtures;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Activations;

/// <summary>RSS is per process: measured alone, after the parallel test collections have finished.</summary>
[CollectionDefinition(nameof(ResidentMemory), DisableParallelization = true)]
public sealed class ResidentMemory;

[Collection(nameof(ResidentMemory))]
public sealed class ActivationStoreMemoryTests(ITestOutputHelper output) : IDisposable
{
    readonly TempFolder folder = new("tsae-store-rss-");

    public void Dispose() => folder.Dispose();

    static long ResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    [Fact]
    public void Resident_memory_does_not_grow_with_the_store_while_streaming()
    {
        if (!File.Exists("/proc/self/status")) return;
        const int t = 64, d = 256, b = 16;
        const int sequences = 100 * b;
        long batchBytes = (long)b * t * d * sizeof(float); // 1 MiB
        string path = Path.Combine(folder, "store");
        using (var writer = ActivationStoreWriter.Create(path, d, t, ActivationDtype.Float32))
        {
            var generator = new Generator(5);
            for (int a = 0; a < sequences / b; a++)
            {
                using var scope = NewDisposeScope();
                writer.Append(randn([b, t, d], generator: generator), ActivationStoreTests.Labels(a * b, b, t));
            }
            writer.Complete();
        }

        using var store = ActivationStore.Open(path);
        long Stream(int epoch)
        {
            long peak = 0;
            IEnumerable<ActivationStoreBatch> batches = epoch % 2 == 0
                ? store.SequenceBatches(b, seed: epoch)
                : store.TokenBatches(b * t, seed: epoch, shuffleBufferTokens: 4 * b * t);
            foreach (ActivationStoreBatch batch in batches)
            {
                using (batch)
                using (var scope = NewDisposeScope())
                    batch.Activations.X.sum().item<float>();
                peak = Math.Max(peak, ResidentBytes());
            }
            // Managed garbage is the GC's business, not the store's: collect the young generations (where batch
            // garbage lives) so that it cannot pile up as noise; a full collection would only cost time.
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            return peak;
        }

        GC.Collect();
        long beforeReading = ResidentBytes();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Three warm-up epochs: the allocator's free lists settle over the first ones after a suite's earlier tests.
        long warm = Enumerable.Range(0, 3).Max(Stream);
        long later = Enumerable.Range(3, 4).Max(Stream);
        output.WriteLine($"store {100 * batchBytes >> 20} MiB, batch {batchBytes >> 20} MiB; RSS before reading {beforeReading >> 20} MiB, " +
                         $"peak in epochs 0-2 {warm >> 20} MiB, in epochs 3-6 {later >> 20} MiB; 7 epochs in {clock.ElapsedMilliseconds} ms");
        // Reading costs the token reader's 4-batch shuffle buffer, the batch being assembled, its tensors, and GC and
        // allocator slack; a store that stayed mapped would add all 100 batches.
        Assert.True(warm - beforeReading < 20 * batchBytes,
            $"RSS rose by {(warm - beforeReading) >> 20} MiB while streaming a {100 * batchBytes >> 20} MiB store");
        // And nothing accumulates from epoch to epoch.
        Assert.True(later - warm < 4 * batchBytes, $"peak RSS rose by {(later - warm) >> 20} MiB from epochs 0-2 to epochs 3-6");
    }
}
