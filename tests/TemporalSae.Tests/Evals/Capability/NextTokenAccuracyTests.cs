using TemporalSae.Evals.Capability;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Capability;

public sealed class NextTokenAccuracyTests
{
    // One window of 4 tokens over a vocabulary of 3: positions 0..2 predict tokens 1..3.
    static readonly long[] Ids = [2, 0, 1, 1];

    static Tensor Logits(params int[] argmaxPerPosition)
    {
        var values = new float[4 * 3];
        for (int t = 0; t < 4; t++) values[t * 3 + argmaxPerPosition[t]] = 1;
        return tensor(values, [1, 4, 3]);
    }

    [Fact]
    public void Counts_top1_hits_of_each_pass_over_next_token_positions()
    {
        var accuracy = new NextTokenAccuracy();
        using var ids = tensor(Ids, [1, 4]);
        using var noDrop = zeros([1, 4], ScalarType.Bool);
        // Clean predicts 0, 1, 1 (all right); spliced predicts 0, 2, 1 (one wrong). The last position predicts nothing.
        accuracy.Add(ids, noDrop, Logits(0, 1, 1, 2), Logits(0, 2, 1, 0));
        Assert.Equal(3, accuracy.Predictions);
        Assert.Equal(1.0, accuracy.Clean);
        Assert.Equal(2.0 / 3, accuracy.Spliced, 12);
    }

    [Fact]
    public void Drops_predictions_whose_input_token_is_special()
    {
        var accuracy = new NextTokenAccuracy();
        using var ids = tensor(Ids, [1, 4]);
        using var drop = tensor(new[] { true, false, false, false }, [1, 4]);
        // Position 0 (special input) is wrong in both passes but must not count.
        accuracy.Add(ids, drop, Logits(2, 1, 1, 0), Logits(2, 1, 0, 0));
        Assert.Equal(2, accuracy.Predictions);
        Assert.Equal(1.0, accuracy.Clean);
        Assert.Equal(0.5, accuracy.Spliced);
    }

    [Fact]
    public void Identical_passes_give_identical_accuracy_even_with_ties()
    {
        var accuracy = new NextTokenAccuracy();
        using var ids = tensor(Ids, [1, 4]);
        using var noDrop = zeros([1, 4], ScalarType.Bool);
        using var flat = zeros([1, 4, 3]); // every logit tied: argmax takes id 0
        accuracy.Add(ids, noDrop, flat, flat);
        Assert.Equal(1.0 / 3, accuracy.Clean, 12);
        Assert.Equal(accuracy.Clean, accuracy.Spliced);
    }
    [Fact]
    public void Drops_predictions_whose_target_is_the_unknown_id()
    {
        // Ids 2, 0, 1, 1 with 1 as the unknown id: positions 1 and 2 predict the unknown id and leave; position 0
        // (target 0) stays. Both passes get every unknown target right, which must not count.
        using var ids = tensor(Ids, [1, 4]);
        using var noDrop = zeros([1, 4], ScalarType.Bool);
        var excluded = new NextTokenAccuracy(unknownId: 1);
        excluded.Add(ids, noDrop, Logits(0, 1, 1, 0), Logits(2, 1, 1, 0));
        Assert.Equal(1, excluded.Predictions);
        Assert.Equal(2, excluded.ExcludedUnknownTargets);
        Assert.Equal(1.0, excluded.Clean);
        Assert.Equal(0.0, excluded.Spliced);                                 // low once the free hits are gone

        var counted = new NextTokenAccuracy();
        counted.Add(ids, noDrop, Logits(0, 1, 1, 0), Logits(2, 1, 1, 0));
        Assert.Equal(0, counted.ExcludedUnknownTargets);
        Assert.Equal(2.0 / 3, counted.Spliced, 12);                          // high while they count
    }
}

