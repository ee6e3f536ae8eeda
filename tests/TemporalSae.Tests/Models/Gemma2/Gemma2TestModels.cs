// Small random Gemma-2 models built in memory for the invariant tests (no files involved).
using TemporalSae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.Gemma2;

internal static class Gemma2TestModels
{
    /// <summary>16 wide, 4 heads over 2 key/value heads, window 3, both soft caps low enough to act.</summary>
    public static Gemma2Config Config(params Gemma2AttentionKind[] layerTypes) => new()
    {
        VocabSize = 50,
        HiddenSize = 16,
        IntermediateSize = 32,
        NumHiddenLayers = layerTypes.Length,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = 4,
        QueryPreAttnScalar = 4,
        SlidingWindow = 3,
        AttnLogitSoftcapping = 5.0,
        FinalLogitSoftcapping = 3.0,
        LayerTypes = layerTypes,
    };

    public static Dictionary<string, Tensor> RandomWeights(Gemma2Config config, ulong seed)
    {
        var generator = new Generator(seed);
        return Gemma2Model.ExpectedWeightShapes(config)
            .ToDictionary(kv => kv.Key, kv => randn(kv.Value, generator: generator).mul_(0.3));
    }

    public static Gemma2Model Random(Gemma2Config config, ulong seed = 7)
    {
        Dictionary<string, Tensor> weights = RandomWeights(config, seed);
        try
        {
            return Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU);
        }
        finally
        {
            foreach (Tensor t in weights.Values) t.Dispose();
        }
    }

    public static Tensor Tokens(int batch, int time, int vocab, ulong seed) =>
        randint(0, vocab, [batch, time], dtype: ScalarType.Int64, generator: new Generator(seed));

    /// <summary>Largest |a - b| over the time positions [from, to) of [B, T, ...] tensors.</summary>
    public static double MaxDiff(Tensor a, Tensor b, long from, long to)
    {
        using var scope = NewDisposeScope();
        return (a.narrow(1, from, to - from) - b.narrow(1, from, to - from)).abs().max().item<float>();
    }
}
