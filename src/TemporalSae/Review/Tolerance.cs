// When a metric change counts as real. Same machine and thread count: results are byte-identical, so any change is
// real; across machines LibTorch's kernels sum in other orders, and numbers drift by ~1e-4 relative after training
// (measured by re-running on a second machine would tighten this; until then the bound is deliberately loose).
namespace TemporalSae.Review;

public sealed record Tolerance(double Relative = 1e-3, double Absolute = 1e-6)
{
    public static Tolerance Default { get; } = new();

    /// <summary>
    /// For smoke-profile snapshots. Measured between two machines of the CI kind (AMD EPYC, 2 threads): a tiny SAE
    /// trained for 16 steps drifts by up to 1.1e-3 relative (a training-curve L0), beyond Default; ten times that
    /// still catches any change of a formula, a seed or a default.
    /// </summary>
    public static Tolerance Snapshot { get; } = new(Relative: 1e-2);

    public bool Within(double expected, double actual) =>
        Math.Abs(actual - expected) <= Absolute + Relative * Math.Abs(expected);
}
