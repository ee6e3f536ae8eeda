using TemporalSae.Evals.Smoothness;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Smoothness;

/// <summary>The smoothness measures against values worked out by hand on one or two short sequences.</summary>
public sealed class TemporalSmoothnessTests
{
    static Tensor Features(float[,] values) =>
        tensor(values.Cast<float>().ToArray(), [1, values.GetLength(0), values.GetLength(1)]);

    static Tensor Row(params long[] values) => tensor(values, [1, values.Length]);

    static Tensor Flags(params bool[] values) => tensor(values, [1, values.Length]);

    [Fact]
    public void A_latent_constant_within_each_segment_has_zero_total_variation_and_full_persistence()
    {
        // Latent 0 is 2 in segment 7 and 5 in segment 8: it changes only across the boundary, which is not a pair.
        var f = Features(new float[,] { { 2, 0 }, { 2, 0 }, { 2, 0 }, { 5, 0 }, { 5, 0 } });
        var measure = new TemporalSmoothness([new LatentLevel("all", 0, 2)]);
        measure.Add(f, Row(7, 7, 7, 8, 8), Flags(false, false, false, false, false));

        LevelSmoothness all = Assert.Single(measure.Result());
        Assert.Equal(0, all.TotalVariation);
        Assert.Equal(0, all.RelativeTotalVariation);
        Assert.Equal(1, all.Persistence);
        Assert.Equal(1, all.DistinctPerSequence);
        Assert.Equal(1, all.L0);
    }

    [Fact]
    public void Measures_match_hand_computed_values_per_level_and_skip_special_tokens()
    {
        // Position 0 is special (BOS): its huge values and the pair (0, 1) must not count.
        var f = Features(new float[,]
        {
            { 9, 9, 9 },
            { 1, 0, 3 },
            { 0, 2, 3 },
            { 4, 2, 0 },
        });
        var measure = new TemporalSmoothness([new LatentLevel("a", 0, 2), new LatentLevel("b", 2, 3)]);
        measure.Add(f, Row(0, 0, 0, 0), Flags(true, false, false, false));
        var result = measure.Result();

        // Level a (latents 0, 1), pairs (1,2) and (2,3): |0-1| + |2-0| = 3 and |4-0| + |2-2| = 4 -> 3.5 per pair.
        LevelSmoothness a = result[0];
        Assert.Equal(3.5, a.TotalVariation!.Value, 12);
        // Per-token L1 over positions 1..3: 1, 2, 6 -> 3; relative = 3.5 / 3.
        Assert.Equal(3.5 / 3, a.RelativeTotalVariation!.Value, 12);
        // Active before: pair (1,2) latent 0 (then off); pair (2,3) latent 1 (stays on) -> 1 of 2.
        Assert.Equal(0.5, a.Persistence!.Value, 12);
        Assert.Equal(2, a.DistinctPerSequence!.Value, 12);
        Assert.Equal(4.0 / 3, a.L0!.Value, 12);

        // Level b (latent 2): 3, 3, 0 -> variation 0 + 3 over 2 pairs; active before twice, stays once.
        LevelSmoothness b = result[1];
        Assert.Equal(1.5, b.TotalVariation!.Value, 12);
        Assert.Equal(0.5, b.Persistence!.Value, 12);
        Assert.Equal(1, b.DistinctPerSequence!.Value, 12);
        Assert.Equal(2.0 / 3, b.L0!.Value, 12);
    }

    [Fact]
    public void A_level_that_never_fires_reports_no_persistence_rather_than_nan()
    {
        var f = Features(new float[,] { { 1, 0 }, { 0, 0 }, { 1, 0 } });
        var measure = new TemporalSmoothness([new LatentLevel("on", 0, 1), new LatentLevel("off", 1, 2)]);
        measure.Add(f, Row(0, 0, 0), Flags(false, false, false));
        LevelSmoothness off = measure.Result()[1];
        Assert.Null(off.Persistence);
        Assert.Null(off.RelativeTotalVariation);
        Assert.Equal(0, off.TotalVariation);
        Assert.Equal(0, measure.Result()[0].Persistence);
    }
}
