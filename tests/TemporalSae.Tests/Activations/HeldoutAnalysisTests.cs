// The activations stage's held-out analysis on a tiny GPT-2: cross-entropies scored on exactly the positions the rule
// keeps (special inputs and unknown targets left out), the bigram on the same pairs, the spectrum over non-special
// tokens; a model without a vocabulary map excludes nothing.
using System.Text.Json.Nodes;
using TemporalSae.Activations;
using TemporalSae.Models;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Activations;

public class HeldoutAnalysisTests
{
    const int Windows = 5, T = 12;

    /// <summary>GPT-2 ids below <paramref name="maxId"/> in windows [N, T] whose first token is special.</summary>
    static (Tensor Ids, Tensor Special) HeldoutWindows(long seed, int maxId)
    {
        using var g = new Generator((ulong)seed);
        Tensor ids = randint(1, maxId, [Windows, T], generator: g);
        ids[.., 0] = tensor(0L);
        Tensor special = zeros([Windows, T], ScalarType.Bool);
        special[.., 0] = tensor(true);
        return (ids, special);
    }

    /// <summary>The expected model cross-entropy and bigram pairs under the rule, computed position by position.</summary>
    static (double Ce, long[] Prev, long[] Next, long Excluded) Expected(ISubjectModel model, Tensor modelIds, Tensor special, long? unknown)
    {
        using var noGrad = no_grad();
        Tensor logProbs = model.Forward(modelIds).Logits!.log_softmax(-1);
        long[] ids = modelIds.reshape(-1).data<long>().ToArray();
        bool[] isSpecial = special.reshape(-1).data<bool>().ToArray();
        double nll = 0;
        long excluded = 0;
        var prev = new List<long>();
        var next = new List<long>();
        for (int w = 0; w < Windows; w++)
            for (int t = 0; t < T - 1; t++)
            {
                int i = w * T + t;
                if (isSpecial[i]) continue;
                if (ids[i + 1] == unknown) { excluded++; continue; }
                nll -= logProbs[w, t, ids[i + 1]].item<float>();
                prev.Add(ids[i]);
                next.Add(ids[i + 1]);
            }
        return (nll / next.Count, [.. prev], [.. next], excluded);
    }

    [Fact]
    public void Unknown_targets_and_special_inputs_are_left_out_of_model_and_bigram_alike()
    {
        // Kept GPT-2 ids 0..48 (model ids 0..48); every GPT-2 id from 49 up maps to the unknown id 49.
        var vocab = new VocabMap(Enumerable.Range(0, 49).Select(i => (long)i).ToArray());
        using var subject = new LoadedSubjectModel(new Gpt2Model(TinyGpt2.Config(layers: 2), seed: 7), vocab);
        var (heldout, special) = HeldoutWindows(1, maxId: 70);
        var (train, _) = HeldoutWindows(2, maxId: 70);

        var (spectrum, ce) = HeldoutAnalysis.Run(subject, layer: 0, heldout, special, train, batchSize: 2);

        Tensor modelIds = vocab.ToModel(heldout);
        var expected = Expected(subject.Model, modelIds, special, vocab.UnknownId);
        Assert.True(expected.Excluded > 5, "the fixture must have unknown targets");
        Assert.Equal(expected.Excluded, ce["excluded_unknown_targets"]!.GetValue<long>());
        Assert.Equal(expected.Next.Length, ce["positions"]!.GetValue<int>());
        Assert.Equal(expected.Ce, ce["model_cross_entropy"]!.GetValue<double>(), 4);
        var (bigram, k) = NgramBaselines.Bigram(vocab.ToModel(train), expected.Prev, expected.Next, vocab.Size);
        Assert.Equal(bigram, ce["bigram_cross_entropy"]!.GetValue<double>(), 12);
        Assert.Equal(k, ce["bigram_add_k"]!.GetValue<double>());
        Assert.Equal(bigram - expected.Ce, ce["ce_below_bigram"]!.GetValue<double>(), 4);
        long unknownTokens = modelIds.eq(vocab.UnknownId).sum().item<long>();
        Assert.Equal(unknownTokens, ce["unknown_tokens"]!.GetValue<long>());
        Assert.Equal(unknownTokens / (double)(Windows * T), ce["unknown_token_share"]!.GetValue<double>(), 12);

        Assert.Equal(Windows * (T - 1), spectrum["tokens"]!.GetValue<long>());
        Assert.Equal(32, spectrum["d_model"]!.GetValue<int>());
        Assert.Equal(Windows, spectrum["windows"]!.GetValue<int>());
    }

    [Fact]
    public void A_model_without_a_vocabulary_map_excludes_nothing()
    {
        using var subject = new LoadedSubjectModel(new Gpt2Model(TinyGpt2.Config(layers: 2), seed: 8), null);
        var (heldout, special) = HeldoutWindows(3, maxId: 50);
        var (train, _) = HeldoutWindows(4, maxId: 50);
        var (_, ce) = HeldoutAnalysis.Run(subject, layer: 1, heldout, special, train, batchSize: 3);
        var expected = Expected(subject.Model, heldout, special, unknown: null);
        Assert.Equal(0, ce["excluded_unknown_targets"]!.GetValue<long>());
        Assert.Equal(0, ce["unknown_tokens"]!.GetValue<long>());
        Assert.Equal(Windows * (T - 2), ce["positions"]!.GetValue<int>());                      // position 0 is special
        Assert.Equal(expected.Ce, ce["model_cross_entropy"]!.GetValue<double>(), 4);
    }
}
