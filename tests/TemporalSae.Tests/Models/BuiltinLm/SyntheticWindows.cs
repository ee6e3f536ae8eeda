// Token windows with structure a bigram cannot capture: each token repeats the one two positions back with
// probability 0.85, else it is one of three successors of the previous token (a first-order
// chain a bigram can learn); states are spread over GPT-2 ids and windows start with <|endoftext|>.
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.BuiltinLm;

static class SyntheticWindows
{
    public static Tensor Make(int windows, int length, int states, int seed)
    {
        var random = new Random(seed);
        var ids = new long[windows * length];
        for (int w = 0; w < windows; w++)
        {
            var row = ids.AsSpan(w * length, length);
            row[0] = 50256;
            for (int t = 1; t < length; t++)
                row[t] = t >= 3 && random.NextDouble() < 0.85
                    ? row[t - 2]
                    : 1000 + 7 * ((11 * State(row[t - 1]) + 1 + random.Next(3)) % states);
        }
        return tensor(ids, ScalarType.Int64).reshape(windows, length);
    }

    static int State(long id) => id == 50256 ? 0 : (int)(id - 1000) / 7;
}
