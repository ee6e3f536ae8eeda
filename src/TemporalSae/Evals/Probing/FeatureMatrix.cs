// Probe examples as a dense row-major float32 matrix: one row per example (a mean-pooled window or one token), one
// column per latent or model dimension. What the probes of the sparse probing evaluation read.

namespace TemporalSae.Evals.Probing;

/// <summary><see cref="Values"/> holds <see cref="Rows"/> x <see cref="Columns"/> floats, row after row.</summary>
public sealed class FeatureMatrix
{
    public FeatureMatrix(float[] values, int rows, int columns)
    {
        if (rows < 0 || columns < 0 || values.LongLength != (long)rows * columns)
            throw new ArgumentException($"expected {rows} x {columns} values, got {values.LongLength}");
        Values = values;
        Rows = rows;
        Columns = columns;
    }

    public float[] Values { get; }
    public int Rows { get; }
    public int Columns { get; }

    public ReadOnlySpan<float> Row(int row) => Values.AsSpan(row * Columns, Columns);

    /// <summary>The given rows, in that order.</summary>
    public FeatureMatrix SelectRows(IReadOnlyList<int> rows)
    {
        var values = new float[(long)rows.Count * Columns];
        for (int i = 0; i < rows.Count; i++) Row(rows[i]).CopyTo(values.AsSpan(i * Columns, Columns));
        return new FeatureMatrix(values, rows.Count, Columns);
    }

    /// <summary>The given columns, in that order.</summary>
    public FeatureMatrix SelectColumns(IReadOnlyList<int> columns)
    {
        var values = new float[(long)Rows * columns.Count];
        for (int r = 0; r < Rows; r++)
        {
            ReadOnlySpan<float> row = Row(r);
            for (int c = 0; c < columns.Count; c++) values[r * columns.Count + c] = row[columns[c]];
        }
        return new FeatureMatrix(values, Rows, columns.Count);
    }
}
