// One targeted probing task as SAEBench's sparse_probing scores it: rank features by the absolute difference of class
// means on the training examples, fit the L2 logistic regression on the top k (and on all features), report accuracy
// on the held-out test examples. The same code scores SAE latents and the model's own activations.

namespace TemporalSae.Evals.Probing;

/// <summary>Examples of one split of a task: features [examples, features] and their labels (true = positive).</summary>
public sealed record ProbeExamples(FeatureMatrix X, bool[] Y);

/// <summary>Test accuracy with every feature and with the top k of each requested k.</summary>
public sealed record ProbeAccuracies(double FullWidth, IReadOnlyList<(int K, double Accuracy)> TopK);

public static class SparseProbe
{
    /// <summary>
    /// The <paramref name="k"/> columns with the largest |mean over positives - mean over negatives|, largest first;
    /// equal differences keep the lower column first so the choice is deterministic.
    /// </summary>
    public static int[] TopColumns(FeatureMatrix x, IReadOnlyList<bool> y, int k)
    {
        if (x.Rows != y.Count) throw new ArgumentException($"{x.Rows} rows but {y.Count} labels");
        var positive = new double[x.Columns];
        var negative = new double[x.Columns];
        int positives = 0;
        for (int i = 0; i < x.Rows; i++)
        {
            double[] sums = y[i] ? positive : negative;
            if (y[i]) positives++;
            ReadOnlySpan<float> row = x.Row(i);
            for (int j = 0; j < x.Columns; j++) sums[j] += row[j];
        }
        int negatives = x.Rows - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException("ranking needs examples of both classes");
        double[] gap = new double[x.Columns];
        for (int j = 0; j < x.Columns; j++) gap[j] = Math.Abs(positive[j] / positives - negative[j] / negatives);
        return Enumerable.Range(0, x.Columns).OrderByDescending(j => gap[j]).ThenBy(j => j).Take(Math.Min(k, x.Columns)).ToArray();
    }

    public static ProbeAccuracies Evaluate(ProbeExamples train, ProbeExamples test, IReadOnlyList<int> kValues, double l2)
    {
        double full = LogisticRegression.Fit(train.X, train.Y, l2).Accuracy(test.X, test.Y);
        var topK = new List<(int, double)>();
        int[] ranked = TopColumns(train.X, train.Y, kValues.Count == 0 ? 0 : kValues.Max());
        foreach (int k in kValues)
        {
            int[] columns = ranked[..Math.Min(k, ranked.Length)];
            var probe = LogisticRegression.Fit(train.X.SelectColumns(columns), train.Y, l2);
            topK.Add((k, probe.Accuracy(test.X.SelectColumns(columns), test.Y)));
        }
        return new ProbeAccuracies(full, topK);
    }
}
