using TemporalSae.Evals.Stability;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals.Stability;

/// <summary>Jaccard, cosine, their grouping by distance, and the distance rule, on hand-made feature rows.</summary>
public sealed class FeatureStabilityTests
{
    static Tensor Rows(float[,] values) => tensor(values.Cast<float>().ToArray(), [values.GetLength(0), values.GetLength(1)]);

    [Fact]
    public void Jaccard_and_cosine_match_hand_computed_values()
    {
        var full = Rows(new float[,] { { 1, 2, 0, 0 }, { 1, 0, 0, 0 }, { 0, 0, 0, 0 }, { 3, 0, 0, 4 } });
        var truncated = Rows(new float[,] { { 1, 2, 0, 0 }, { 0, 5, 0, 0 }, { 0, 0, 0, 0 }, { 3, 0, 4, 0 } });
        var measure = new FeatureStability();
        measure.Add(8, full, truncated, [0, 5, 20, 100], [100, 100, 100, 2]);

        // Per target: identical (1, 1); disjoint (0, 0); both empty (1, 1); {0,3} vs {0,2}: 1/3, cos = 9 / 25.
        StabilityScores all = measure.Scores(8, "all");
        Assert.Equal(4, all.Targets);
        Assert.Equal((1 + 0 + 1 + 1.0 / 3) / 4, all.Jaccard!.Value, 12);
        Assert.Equal((1 + 0 + 1 + 9.0 / 25) / 4, all.Cosine!.Value, 12);

        Assert.Equal(1, measure.Scores(8, "sentence:0-3").Jaccard);
        Assert.Equal(0, measure.Scores(8, "sentence:4-15").Cosine);
        Assert.Equal(1.0 / 3, measure.Scores(8, "document:0-3").Jaccard!.Value, 12);
        Assert.Equal(3, measure.Scores(8, "document:64+").Targets);
        Assert.Equal(new StabilityScores(0, null, null), measure.Scores(16, "all"));
    }

    [Fact]
    public void One_zero_vector_against_a_nonzero_one_has_cosine_zero()
    {
        var measure = new FeatureStability();
        measure.Add(8, Rows(new float[,] { { 0, 0 } }), Rows(new float[,] { { 0, 2 } }), [0], [0]);
        Assert.Equal(0, measure.Scores(8, "all").Cosine);
        Assert.Equal(0, measure.Scores(8, "all").Jaccard);
    }

    [Theory]
    [InlineData(4, 2)]  // segment 3 runs from position 2
    [InlineData(2, 0)]  // the target starts its segment
    [InlineData(1, 0)]  // follows the special token at 0
    public void Distance_counts_back_to_the_first_token_of_the_segment(int position, int expected)
    {
        int[] segments = [3, 3, 3, 3, 3];
        segments[1] = 2;
        bool[] special = [true, false, false, false, false];
        Assert.Equal(expected, FeatureStability.DistanceToSegmentStart(segments, special, position));
    }

    [Fact]
    public void Distances_fall_into_their_buckets()
    {
        Assert.Equal("0-3", FeatureStability.Bucket(3));
        Assert.Equal("4-15", FeatureStability.Bucket(4));
        Assert.Equal("16-63", FeatureStability.Bucket(63));
        Assert.Equal("64+", FeatureStability.Bucket(126));
    }
}
