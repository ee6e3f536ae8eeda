// Feature stability across context windows: how much a target token's SAE features change when the model sees only
// its last w tokens instead of the full window. Per truncated length w: Jaccard of the active-latent sets and cosine of
// the feature vectors, overall and by the target's distance to the start of its sentence and of its document (a
// boundary inside the last w tokens means the truncated context still holds the whole current segment).
using static TorchSharp.torch;

namespace TemporalSae.Evals.Stability;

/// <summary>Mean Jaccard and cosine over a group of targets.</summary>
public sealed record StabilityScores(long Targets, double? Jaccard, double? Cosine);

public sealed class FeatureStability
{
    /// <summary>Distance buckets in tokens from the segment's first token to the target (0: the target starts it).</summary>
    public static readonly IReadOnlyList<(string Name, int From, int To)> DistanceBuckets =
        [("0-3", 0, 3), ("4-15", 4, 15), ("16-63", 16, 63), ("64+", 64, int.MaxValue)];

    readonly Dictionary<(int W, string Group), (long Count, double Jaccard, double Cosine)> sums = [];

    /// <summary>
    /// full and truncated [N, d_sae]: the targets' features with the full and with the truncated context;
    /// sentenceDistance and documentDistance [N]: each target's distance to the start of its sentence and document.
    /// </summary>
    public void Add(int w, Tensor full, Tensor truncated, IReadOnlyList<int> sentenceDistance, IReadOnlyList<int> documentDistance)
    {
        using var scope = NewDisposeScope();
        Tensor a = full.to_type(ScalarType.Float64), b = truncated.to_type(ScalarType.Float64);    // [N, d_sae]
        Tensor activeA = a.gt(0), activeB = b.gt(0);
        Tensor union = activeA.logical_or(activeB).sum(-1).to_type(ScalarType.Float64);           // [N]
        Tensor intersection = activeA.logical_and(activeB).sum(-1).to_type(ScalarType.Float64);
        // Two empty sets are identical; two zero vectors point the same way, one zero vector points nowhere.
        double[] jaccard = where(union.gt(0), intersection / union.clamp_min(1), ones_like(union)).data<double>().ToArray();
        Tensor normA = a.norm(1, keepdim: false, p: 2), normB = b.norm(1, keepdim: false, p: 2);
        Tensor dot = (a * b).sum(-1);
        Tensor bothZero = normA.eq(0).logical_and(normB.eq(0));
        double[] cosine = where(bothZero, ones_like(dot), dot / (normA * normB).clamp_min(1e-300)).data<double>().ToArray();

        for (int i = 0; i < jaccard.Length; i++)
        {
            Accumulate(w, "all", jaccard[i], cosine[i]);
            Accumulate(w, "sentence:" + Bucket(sentenceDistance[i]), jaccard[i], cosine[i]);
            Accumulate(w, "document:" + Bucket(documentDistance[i]), jaccard[i], cosine[i]);
        }
    }

    public StabilityScores Scores(int w, string group) => sums.TryGetValue((w, group), out var s)
        ? new StabilityScores(s.Count, s.Jaccard / s.Count, s.Cosine / s.Count)
        : new StabilityScores(0, null, null);

    public static string Bucket(int distance) => DistanceBuckets.First(b => distance >= b.From && distance <= b.To).Name;

    /// <summary>
    /// Tokens from the first token of the run of equal, non-special ids that ends at <paramref name="position"/> to it,
    /// within one window's row of segment ids: 0 when the token starts its segment (or follows a special token).
    /// </summary>
    public static int DistanceToSegmentStart(ReadOnlySpan<int> segmentIds, ReadOnlySpan<bool> special, int position)
    {
        int start = position;
        while (start > 0 && !special[start - 1] && segmentIds[start - 1] == segmentIds[position]) start--;
        return position - start;
    }

    void Accumulate(int w, string group, double jaccard, double cosine)
    {
        var s = sums.GetValueOrDefault((w, group));
        sums[(w, group)] = (s.Count + 1, s.Jaccard + jaccard, s.Cosine + cosine);
    }
}
