// Binary L2-penalised logistic regression fitted to optimality by Newton's method in float64: the probe of the sparse
// probing evaluation. SAEBench's sparse_probing fits sklearn's LogisticRegression; this minimises the same objective,
// sum_i logloss(z_i, y_i) + l2/2 ||w||^2 (sklearn's C = 1 / l2, bias unpenalised), on inputs standardised by the
// training mean and population std as sklearn's StandardScaler does. Features with zero std are dropped (weight 0).
//
// Newton's step is solved in whichever space is smaller. With fewer features than examples, the (m+1)-square
// Hessian is factorised directly. With more (full SAE width: 4096 latents, ~512 examples), w stays in the span of the
// standardised rows (w = X^T alpha: the start is 0 and every gradient X^T r + l2 w lies in that span), so the step is
// solved through the Woodbury identity with one n x n Cholesky factor per iteration and the Gram matrix K = X X^T
// computed once. Both give the exact Newton direction, so the fit is the same optimum either way.
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Evals.Probing;

public sealed class LogisticRegression
{
    const int MaxIterations = 100;

    // p(1 - p) underflows to 0 on confidently classified examples; a floor keeps the Hessian factorisable and only
    // changes the step of an already-exact fit, never the gradient the fit drives to zero.
    const double MinCurvature = 1e-12;

    // Stop once the Newton decrement g^T H^-1 g (twice the predicted remaining decrease) is at round-off level.
    const double DecrementTolerance = 1e-20;

    // Below this decrement the quadratic model is exact enough that the full step needs no line search.
    const double FullStepDecrement = 1e-10;

    readonly double[] mean;
    readonly double[] scale;
    readonly double[] weights;

    LogisticRegression(double[] mean, double[] scale, double[] weights, double bias, int iterations)
    {
        this.mean = mean;
        this.scale = scale;
        this.weights = weights;
        Bias = bias;
        Iterations = iterations;
    }

    /// <summary>Training mean of each input feature.</summary>
    public IReadOnlyList<double> Mean => mean;

    /// <summary>1 / training std of each input feature; 0 for a dropped (constant) feature.</summary>
    public IReadOnlyList<double> Scale => scale;

    /// <summary>Weights on the standardised features (0 for dropped ones).</summary>
    public IReadOnlyList<double> Weights => weights;

    public double Bias { get; }

    /// <summary>Newton steps taken.</summary>
    public int Iterations { get; }

    /// <summary>Fits the probe on rows of <paramref name="x"/> with labels <paramref name="y"/>; <paramref name="l2"/> must be positive.</summary>
    public static LogisticRegression Fit(FeatureMatrix x, IReadOnlyList<bool> y, double l2)
    {
        if (!(l2 > 0)) throw new ArgumentOutOfRangeException(nameof(l2), l2, "the L2 penalty must be positive (separable data has no finite unpenalised fit)");
        if (x.Rows != y.Count) throw new ArgumentException($"{x.Rows} rows but {y.Count} labels");
        if (x.Rows == 0) throw new ArgumentException("no training examples", nameof(x));

        (double[] mean, double[] scale) = Standardisation(x);
        int[] kept = Enumerable.Range(0, x.Columns).Where(j => scale[j] > 0).ToArray();
        Matrix<double> xs = StandardisedMatrix(x, mean, scale, kept);          // [n, m]
        Vector<double> labels = Vector<double>.Build.Dense(y.Count, i => y[i] ? 1 : 0);

        using INewtonSpace space = kept.Length < x.Rows ? new PrimalSpace(xs) : new KernelSpace(xs);
        (Vector<double> theta, double bias, int iterations) = Minimise(space, labels, l2);

        Vector<double> keptWeights = space.Weights(theta);
        double[] weights = new double[x.Columns];
        for (int i = 0; i < kept.Length; i++) weights[kept[i]] = keptWeights[i];
        return new LogisticRegression(mean, scale, weights, bias, iterations);
    }

    /// <summary>A row of raw features, standardised as in training (dropped features are 0).</summary>
    public double[] Standardise(ReadOnlySpan<float> row)
    {
        if (row.Length != mean.Length) throw new ArgumentException($"expected {mean.Length} features, got {row.Length}");
        var result = new double[row.Length];
        for (int j = 0; j < row.Length; j++) result[j] = (row[j] - mean[j]) * scale[j];
        return result;
    }

    /// <summary>The logit z = w . standardise(x) + b.</summary>
    public double Decision(ReadOnlySpan<float> row)
    {
        if (row.Length != mean.Length) throw new ArgumentException($"expected {mean.Length} features, got {row.Length}");
        double z = Bias;
        for (int j = 0; j < row.Length; j++) z += weights[j] * (row[j] - mean[j]) * scale[j];
        return z;
    }

    /// <summary>Positive class iff z &gt; 0 (sklearn's rule).</summary>
    public bool Predict(ReadOnlySpan<float> row) => Decision(row) > 0;

    public double Accuracy(FeatureMatrix x, IReadOnlyList<bool> y)
    {
        if (x.Rows != y.Count) throw new ArgumentException($"{x.Rows} rows but {y.Count} labels");
        if (x.Rows == 0) throw new ArgumentException("no examples", nameof(x));
        int correct = 0;
        for (int i = 0; i < x.Rows; i++)
            if (Predict(x.Row(i)) == y[i]) correct++;
        return (double)correct / x.Rows;
    }

    /// <summary>
    /// The penalised objective sum_i logloss + l2/2 ||w||^2 at (<paramref name="w"/>, <paramref name="b"/>) on already
    /// standardised rows, and its gradient: what the fit minimises, for checking a solution.
    /// </summary>
    public static (double Loss, double[] WeightGradient, double BiasGradient) Objective(
        IReadOnlyList<double[]> standardised, IReadOnlyList<bool> y, double l2, IReadOnlyList<double> w, double b)
    {
        double loss = 0, biasGradient = 0;
        var weightGradient = new double[w.Count];
        for (int j = 0; j < w.Count; j++)
        {
            loss += 0.5 * l2 * w[j] * w[j];
            weightGradient[j] = l2 * w[j];
        }
        for (int i = 0; i < standardised.Count; i++)
        {
            double z = b;
            for (int j = 0; j < w.Count; j++) z += w[j] * standardised[i][j];
            double label = y[i] ? 1 : 0;
            loss += Softplus(z) - label * z;
            double residual = Sigmoid(z) - label;
            biasGradient += residual;
            for (int j = 0; j < w.Count; j++) weightGradient[j] += residual * standardised[i][j];
        }
        return (loss, weightGradient, biasGradient);
    }

    static (double[] Mean, double[] Scale) Standardisation(FeatureMatrix x)
    {
        int n = x.Rows, d = x.Columns;
        var mean = new double[d];
        var variance = new double[d];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.Row(i);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.Row(i);
            for (int j = 0; j < d; j++)
            {
                double centred = row[j] - mean[j];
                variance[j] += centred * centred;
            }
        }
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            double std = Math.Sqrt(variance[j] / n);
            // A constant float32 column has an exact double mean, so its std is exactly 0; the relative guard only
            // catches round-off on huge constants.
            scale[j] = std > 1e-12 * Math.Max(1, Math.Abs(mean[j])) ? 1 / std : 0;
        }
        return (mean, scale);
    }

    static Matrix<double> StandardisedMatrix(FeatureMatrix x, double[] mean, double[] scale, int[] kept)
    {
        int n = x.Rows;
        var columnMajor = new double[(long)n * kept.Length];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.Row(i);
            for (int c = 0; c < kept.Length; c++)
            {
                int j = kept[c];
                columnMajor[(long)c * n + i] = (row[j] - mean[j]) * scale[j];
            }
        }
        return Matrix<double>.Build.Dense(n, kept.Length, columnMajor);
    }

    static (Vector<double> Theta, double Bias, int Iterations) Minimise(INewtonSpace space, Vector<double> y, double l2)
    {
        int n = y.Count;
        Vector<double> theta = Vector<double>.Build.Dense(space.Size);
        double bias = 0;
        int iterations = 0;
        while (iterations < MaxIterations)
        {
            Vector<double> z = space.Margins(theta);                              // [n] without the bias
            var residual = Vector<double>.Build.Dense(n);
            var curvature = Vector<double>.Build.Dense(n);
            for (int i = 0; i < n; i++)
            {
                double p = Sigmoid(z[i] + bias);
                residual[i] = p - y[i];
                curvature[i] = Math.Max(p * (1 - p), MinCurvature);
            }
            double penalty0 = space.Penalty(theta, z, theta, z);
            double loss0 = DataLoss(z, bias, y, null, 0, 0) + 0.5 * l2 * penalty0;

            (Vector<double> step, double biasStep, double decrement) = space.Direction(theta, z, residual, curvature, l2);
            if (!(decrement > DecrementTolerance * Math.Max(1, loss0))) break;

            Vector<double> dz = space.Margins(step);
            double cross = space.Penalty(theta, z, step, dz);
            double stepPenalty = space.Penalty(step, dz, step, dz);
            double t = 1;
            if (decrement > FullStepDecrement * Math.Max(1, loss0))
            {
                // Backtracking (Armijo) line search: the loss along the step is the data term plus a quadratic penalty.
                while (true)
                {
                    double loss = DataLoss(z, bias, y, dz, biasStep, t) + 0.5 * l2 * (penalty0 - 2 * t * cross + t * t * stepPenalty);
                    if (loss <= loss0 - 1e-4 * t * decrement) break;
                    t /= 2;
                    if (t < 1e-12) return (theta, bias, iterations);
                }
            }
            theta -= t * step;
            bias -= t * biasStep;
            iterations++;
        }
        return (theta, bias, iterations);
    }

    /// <summary>sum_i logloss at margins z - t dz + b - t db.</summary>
    static double DataLoss(Vector<double> z, double bias, Vector<double> y, Vector<double>? dz, double biasStep, double t)
    {
        double loss = 0;
        for (int i = 0; i < z.Count; i++)
        {
            double m = z[i] + bias - (dz is null ? 0 : t * (dz[i] + biasStep));
            loss += Softplus(m) - y[i] * m;
        }
        return loss;
    }

    static double Softplus(double z) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z)));

    static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>The coordinates Newton's method moves in, with their margins, penalty and Newton direction.</summary>
    interface INewtonSpace : IDisposable
    {
        int Size { get; }

        /// <summary>X w [n] for the weights these coordinates stand for.</summary>
        Vector<double> Margins(Vector<double> theta);

        /// <summary>w_a . w_b, given both coordinate vectors and their margins.</summary>
        double Penalty(Vector<double> a, Vector<double> aMargins, Vector<double> b, Vector<double> bMargins);

        /// <summary>The Newton step (in these coordinates and for the bias) and the decrement g^T H^-1 g.</summary>
        (Vector<double> Step, double BiasStep, double Decrement) Direction(
            Vector<double> theta, Vector<double> margins, Vector<double> residual, Vector<double> curvature, double l2);

        Vector<double> Weights(Vector<double> theta);
    }

    /// <summary>theta = w; H = [X 1]^T S [X 1] + diag(l2, ..., l2, 0), (m+1)-square.</summary>
    sealed class PrimalSpace(Matrix<double> x) : INewtonSpace
    {
        readonly Matrix<double> withOnes = x.Append(Matrix<double>.Build.Dense(x.RowCount, 1, 1.0));   // [n, m+1]

        public int Size => x.ColumnCount;

        public Vector<double> Margins(Vector<double> theta) => x * theta;

        public double Penalty(Vector<double> a, Vector<double> aMargins, Vector<double> b, Vector<double> bMargins) => a.DotProduct(b);

        public (Vector<double> Step, double BiasStep, double Decrement) Direction(
            Vector<double> theta, Vector<double> margins, Vector<double> residual, Vector<double> curvature, double l2)
        {
            int m = x.ColumnCount;
            Vector<double> gradient = withOnes.TransposeThisAndMultiply(residual);           // [m+1]
            for (int j = 0; j < m; j++) gradient[j] += l2 * theta[j];
            Matrix<double> weighted = withOnes.Clone();
            weighted.MapIndexedInplace((i, _, v) => v * curvature[i]);                          // S [X 1]
            Matrix<double> hessian = withOnes.TransposeThisAndMultiply(weighted);              // [m+1, m+1]
            for (int j = 0; j < m; j++) hessian[j, j] += l2;
            Vector<double> step = hessian.Cholesky().Solve(gradient);
            return (step.SubVector(0, m), step[m], gradient.DotProduct(step));
        }

        public Vector<double> Weights(Vector<double> theta) => theta;

        public void Dispose() { }
    }

    /// <summary>
    /// theta = alpha with w = X^T alpha. With A = X^T S X + l2 I and G = l2 I + S^1/2 K S^1/2 (n-square, positive
    /// definite), Woodbury gives A^-1 X^T u = X^T phi(u), phi(u) = (u - S^1/2 G^-1 S^1/2 K u) / l2; the bias is
    /// eliminated through the Schur complement of the bordered Hessian. The Gram matrix and the factorisation of G go
    /// through LibTorch's BLAS and LAPACK in float64: managed code takes over a second for K at full SAE width.
    /// </summary>
    sealed class KernelSpace : INewtonSpace
    {
        readonly Matrix<double> x;
        readonly Matrix<double> gram;                                                          // K [n, n]
        readonly Tensor gramTensor;                                                            // the same K, float64

        public KernelSpace(Matrix<double> x)
        {
            this.x = x;
            int n = x.RowCount, m = x.ColumnCount;
            using var scope = torch.NewDisposeScope();
            // Column-major [n, m] storage read row-major is X^T [m, n].
            Tensor xT = torch.tensor(x.AsColumnMajorArray() ?? x.ToColumnMajorArray(), [m, n]);
            gramTensor = xT.t().mm(xT).MoveToOuterDisposeScope();
            gram = Matrix<double>.Build.Dense(n, n, gramTensor.data<double>().ToArray());      // symmetric: layout-free
        }

        public int Size => x.RowCount;

        public Vector<double> Margins(Vector<double> theta) => gram * theta;

        public double Penalty(Vector<double> a, Vector<double> aMargins, Vector<double> b, Vector<double> bMargins) => a.DotProduct(bMargins);

        public (Vector<double> Step, double BiasStep, double Decrement) Direction(
            Vector<double> theta, Vector<double> margins, Vector<double> residual, Vector<double> curvature, double l2)
        {
            int n = x.RowCount;
            Vector<double> root = curvature.PointwiseSqrt();
            Vector<double> u = residual + l2 * theta;                                          // gradient in w is X^T u

            double[] solved;
            using (var scope = torch.NewDisposeScope())
            {
                Tensor r = torch.tensor(root.ToArray());                                       // [n]
                Tensor g = r.unsqueeze(1) * gramTensor * r.unsqueeze(0) + l2 * torch.eye(n, dtype: ScalarType.Float64);
                Tensor factor = torch.linalg.cholesky(g);                                      // lower [n, n]
                double[] rhs = new double[2 * n];                                              // [n, 2]: S^1/2 K u | S^1/2 K s
                Vector<double> ku = gram * u, ks = gram * curvature;
                for (int i = 0; i < n; i++)
                {
                    rhs[2 * i] = root[i] * ku[i];
                    rhs[2 * i + 1] = root[i] * ks[i];
                }
                solved = torch.tensor(rhs, [n, 2]).cholesky_solve(factor).data<double>().ToArray();
            }
            var phiU = Vector<double>.Build.Dense(n, i => (u[i] - root[i] * solved[2 * i]) / l2);
            var phiS = Vector<double>.Build.Dense(n, i => (curvature[i] - root[i] * solved[2 * i + 1]) / l2);

            double biasGradient = residual.Sum();
            Vector<double> kPhiU = gram * phiU, kPhiS = gram * phiS;
            double schur = Math.Max(curvature.Sum() - curvature.DotProduct(kPhiS), MinCurvature);
            double biasStep = (biasGradient - curvature.DotProduct(kPhiU)) / schur;
            Vector<double> step = phiU - biasStep * phiS;
            double decrement = u.DotProduct(kPhiU - biasStep * kPhiS) + biasGradient * biasStep;
            return (step, biasStep, decrement);
        }

        public Vector<double> Weights(Vector<double> theta) => x.TransposeThisAndMultiply(theta);

        public void Dispose() => gramTensor.Dispose();
    }
}
