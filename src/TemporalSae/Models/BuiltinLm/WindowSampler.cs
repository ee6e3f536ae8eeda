// Batch order for language-model training: every window once per epoch, in an order shuffled by a seeded
// generator, so runs with the same seed see the same batches.
namespace TemporalSae.Models.BuiltinLm;

sealed class WindowSampler(long windowCount, int batchSize, long seed)
{
    readonly Random _random = new(unchecked((int)seed ^ (int)(seed >> 32)));
    long[] _order = [];
    int _position;

    public long[] Next()
    {
        var batch = new long[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            if (_position == _order.Length)
            {
                _order = Enumerable.Range(0, (int)windowCount).Select(x => (long)x).ToArray();
                _random.Shuffle(_order);
                _position = 0;
            }
            batch[i] = _order[_position++];
        }
        return batch;
    }
}
