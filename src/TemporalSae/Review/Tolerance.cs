// When a metric change counts as real. Same machine and thread count: results are byte-identical, so any change is
// real; across machines LibTorch's kernels sum in other orders, and numbers drift by ~1e-4 relative after training
// (measured by re-running on a second machine would tighten this; until then the bound is deliberately loose).
namespace TemporalSae.Review;

public sealed record Tolerance(double Relative = 1e-3, double Absolute = 1e-6)
{
    public static Tolerance Default { get; } = new();

    public bool Within(double expected, double actual) =>
        Math.Abs(actual - expected) <= Absolute + Relative * Math.Abs(expected);
}
