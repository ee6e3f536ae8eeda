// Batch order for language-model training: every window once per epoch, in an order shuffled by a seeded
// generator, so runs with the same seed see the same batches.
namespace TemporalSae.Models.BuiltinLm;

sealed class WindowSampler(long windowCount, int batchSize, long seed)
{
    readonly Random random = new(unchecked((int)seed ^ (int)(seed >> 32)));
    long[] order = [];
    int position;

    public long[] Next()
    {
        var batch = new long[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            if (position == order.Length)
            {
                order = Enumerable.Range(0, (int)windowCount).Select(x => (long)x).ToArray();
                random.Shuffle(order);
                position = 0;
            }
            batch[i] = order[position++];
        }
        return batch;
    }
}
