// The eigenvalue spectrum of a set of activation vectors, pooled over batches: float64 sums of x and of x x^T give
// the covariance (about the mean, divided by n) and its eigenvalues; per-group sums give the share of the variance
// that the mean of each group explains (groups: the current token id, the position in the window). See
// docs/science.md, "Activations".
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using static TorchSharp.torch;

namespace TemporalSae.Analysis;

public sealed class ActivationSpectrumAccumulator(int dModel)
{
    /// <summary>How many of the largest eigenvalue fractions the result lists.</summary>
    public const int TopFractions = 10;

    readonly double[] sum = new double[dModel];
    readonly double[] gram = new double[dModel * dModel];
    readonly GroupSums byToken = new(dModel);
    readonly GroupSums byPosition = new(dModel);
    long count;

    public int DModel { get; } = dModel;
    public long Count => count;

    /// <summary>
    /// x [.., d] with <paramref name="keep"/> (bool), <paramref name="tokenIds"/> and <paramref name="positions"/>
    /// (int64) of x's leading shape; only kept rows count. Without ids or positions (a fit that needs only the mean
    /// and covariance, like the PCA baseline's) the matching share is not measured.
    /// </summary>
    public void Add(Tensor x, Tensor keep, Tensor? tokenIds = null, Tensor? positions = null)
    {
        if (x.shape[^1] != DModel)
            throw new InvalidInputException($"activation spectrum: vectors of width {x.shape[^1]}, expected {DModel}");
        using var scope = NewDisposeScope();
        Tensor mask = keep.reshape(-1);
        Tensor xs = x.reshape(-1, DModel)[mask].to(ScalarType.Float64);                      // [n, d]
        long n = xs.shape[0];
        if (n == 0) return;
        count += n;
        AddInto(sum, xs.sum(dim: 0));
        AddInto(gram, xs.t().matmul(xs));                                                    // [d, d]

        if (tokenIds is null && positions is null) return;
        double[] rows = xs.contiguous().data<double>().ToArray();
        if (tokenIds is not null) byToken.Add(rows, tokenIds.reshape(-1)[mask].data<long>().ToArray());
        if (positions is not null) byPosition.Add(rows, positions.reshape(-1)[mask].data<long>().ToArray());
    }

    /// <summary>The mean vector [d] of the kept rows.</summary>
    public double[] Mean()
    {
        RequireRows();
        return sum.Select(s => s / count).ToArray();
    }

    /// <summary>The covariance [d, d] (float64, about the mean, divided by n).</summary>
    public Tensor Covariance()
    {
        RequireRows();
        using var scope = NewDisposeScope();
        Tensor mean = tensor(Mean(), ScalarType.Float64);
        Tensor c = tensor(gram, [DModel, DModel], ScalarType.Float64) / count - mean.outer(mean);
        return ((c + c.t()) / 2).MoveToOuterDisposeScope();                                   // symmetric to the last bit
    }

    public SpectrumResult Result()
    {
        RequireRows();
        using var scope = NewDisposeScope();
        Tensor covariance = Covariance();
        double[] variances = covariance.diagonal().data<double>().ToArray();
        double totalVariance = variances.Sum();

        // Standardising: dimensions with (numerically) no variance have no correlation and are left out.
        double floor = 1e-12 * Math.Max(variances.Max(), double.Epsilon);
        long[] varying = Enumerable.Range(0, DModel).Where(d => variances[d] > floor).Select(d => (long)d).ToArray();
        Tensor index = tensor(varying);
        Tensor sub = covariance.index_select(0, index).index_select(1, index);               // [d', d']
        Tensor scale = sub.diagonal().rsqrt();
        Tensor correlation = sub * scale.unsqueeze(0) * scale.unsqueeze(1);

        double[] mean = Mean();
        double meanSquares = count * mean.Sum(m => m * m);
        double totalSquares = count * totalVariance;                                          // sum_t ||x_t - mean||^2
        return new SpectrumResult(count, DModel, totalVariance,
            EigenSummary.Of(Eigenvalues(covariance), DModel),
            EigenSummary.Of(varying.Length == 0 ? [] : Eigenvalues(correlation), DModel),
            DModel - varying.Length,
            Share(byToken.BetweenSquares(meanSquares), totalSquares), byToken.Groups,
            Share(byPosition.BetweenSquares(meanSquares), totalSquares));
    }

    static double Share(double between, double total) => total > 0 ? Math.Clamp(between / total, 0, 1) : 0;

    /// <summary>Eigenvalues of a symmetric matrix, largest first, rounding-level negatives set to 0.</summary>
    static double[] Eigenvalues(Tensor symmetric)
    {
        using var scope = NewDisposeScope();
        double[] ascending = linalg.eigvalsh(symmetric).data<double>().ToArray();
        return ascending.Reverse().Select(v => Math.Max(0, v)).ToArray();
    }

    static void AddInto(double[] target, Tensor values)
    {
        double[] add = values.contiguous().data<double>().ToArray();
        for (int i = 0; i < target.Length; i++) target[i] += add[i];
    }

    void RequireRows()
    {
        if (count == 0) throw new InvalidInputException("activation spectrum: no kept activation vectors were added");
    }

    /// <summary>Row count and vector sum per group id; only ids that occur take memory.</summary>
    sealed class GroupSums(int d)
    {
        readonly Dictionary<long, int> slotOf = [];
        readonly List<long> counts = [];
        readonly List<double[]> sums = [];

        public int Groups => counts.Count;

        public void Add(double[] rows, long[] groups)
        {
            for (int r = 0; r < groups.Length; r++)
            {
                if (!slotOf.TryGetValue(groups[r], out int slot))
                {
                    slot = counts.Count;
                    slotOf[groups[r]] = slot;
                    counts.Add(0);
                    sums.Add(new double[d]);
                }
                counts[slot]++;
                double[] s = sums[slot];
                int offset = r * d;
                for (int i = 0; i < d; i++) s[i] += rows[offset + i];
            }
        }

        /// <summary>sum_g n_g ||mean_g - mean||^2 = sum_g ||S_g||^2 / n_g - n ||mean||^2.</summary>
        public double BetweenSquares(double meanSquares)
        {
            double within = 0;
            for (int g = 0; g < counts.Count; g++)
                within += sums[g].Sum(v => v * v) / counts[g];
            return within - meanSquares;
        }
    }
}

/// <summary>
/// What an eigenvalue spectrum (largest first) says about dimensionality: the fewest components that reach 50%, 90%
/// and 99% of the total, the participation ratio (sum λ)^2 / sum λ^2, and the largest eigenvalues as fractions.
/// </summary>
public sealed record EigenSummary(int Components50, int Components90, int Components99, double ParticipationRatio,
    IReadOnlyList<double> TopFractions, int DModel)
{
    public static EigenSummary Of(IReadOnlyList<double> descending, int dModel)
    {
        double total = descending.Sum();
        double squares = descending.Sum(v => v * v);
        return new EigenSummary(Needed(descending, total, 0.5), Needed(descending, total, 0.9), Needed(descending, total, 0.99),
            squares > 0 ? total * total / squares : 0,
            descending.Take(ActivationSpectrumAccumulator.TopFractions).Select(v => total > 0 ? v / total : 0).ToArray(), dModel);
    }

    static int Needed(IReadOnlyList<double> descending, double total, double fraction)
    {
        double cumulative = 0;
        for (int i = 0; i < descending.Count; i++)
        {
            cumulative += descending[i];
            // The relative slack absorbs rounding, so variance lying exactly in m dimensions needs m components.
            if (cumulative >= fraction * total * (1 - 1e-12)) return i + 1;
        }
        return descending.Count;
    }

    public JsonObject ToJson() => new()
    {
        ["components_50"] = Components50,
        ["components_90"] = Components90,
        ["components_99"] = Components99,
        ["components_50_fraction"] = Components50 / (double)DModel,
        ["components_90_fraction"] = Components90 / (double)DModel,
        ["components_99_fraction"] = Components99 / (double)DModel,
        ["participation_ratio"] = ParticipationRatio,
        ["participation_ratio_fraction"] = ParticipationRatio / DModel,
        ["top_eigenvalue_fractions"] = new JsonArray(TopFractions.Select(v => (JsonNode)v).ToArray()),
    };
}

/// <param name="TotalVariance">sum_d Var(x_d), the trace of the covariance.</param>
/// <param name="Covariance">The covariance's spectrum.</param>
/// <param name="Correlation">The spectrum after standardising each dimension (the correlation matrix).</param>
/// <param name="ConstantDimensions">Dimensions without variance, left out of the correlation matrix.</param>
/// <param name="TokenIdShare">Between-token-id sum of squares over the total (in-sample).</param>
/// <param name="PositionShare">Between-position sum of squares over the total (in-sample).</param>
public sealed record SpectrumResult(long Tokens, int DModel, double TotalVariance, EigenSummary Covariance, EigenSummary Correlation,
    int ConstantDimensions, double TokenIdShare, int TokenIds, double PositionShare)
{
    public JsonObject ToJson() => new()
    {
        ["tokens"] = Tokens,
        ["d_model"] = DModel,
        ["total_variance"] = TotalVariance,
        ["covariance"] = Covariance.ToJson(),
        ["correlation"] = Correlation.ToJson(),
        ["constant_dimensions"] = ConstantDimensions,
        ["token_id_variance_share"] = TokenIdShare,
        ["distinct_token_ids"] = TokenIds,
        ["position_variance_share"] = PositionShare,
    };
}
