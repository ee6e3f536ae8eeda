// Tensor comparisons for tests: exact or within an absolute tolerance, both widened to float64. A failure prints the
// largest difference, where it is, and the first values of both tensors, so a mismatch can be diagnosed from the log.
using System.Globalization;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Fixtures;

static class TensorAssert
{
    public static void Equal(Tensor expected, Tensor actual, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        if (expected.numel() == 0) return;
        using var same = expected.eq(actual).all();
        if (!same.item<bool>()) Close(expected, actual, tolerance: 0, what);
    }

    /// <summary>Fails when any |expected - actual| exceeds <paramref name="tolerance"/>; returns the largest difference.</summary>
    public static double Close(Tensor expected, Tensor actual, double tolerance, string what = "")
    {
        if (!expected.shape.SequenceEqual(actual.shape))
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        if (expected.numel() == 0) return 0;
        using var scope = NewDisposeScope();
        Tensor e = expected.to(ScalarType.Float64).flatten(), a = actual.to(ScalarType.Float64).flatten();
        Tensor diff = (e - a).abs();
        if (diff.isnan().any().item<bool>())
            throw new XunitException($"{what}: NaN in the result. first actual {First(a)}");
        double max = diff.max().item<double>();
        if (max > tolerance)
        {
            long at = diff.argmax().item<long>();
            throw new XunitException(
                $"{what}: max |diff| {max:E3} > {tolerance:E1} at flat index {at} " +
                $"(expected {e[at].item<double>():G9}, got {a[at].item<double>():G9})\n" +
                $"  expected first {First(e)}\n  actual   first {First(a)}");
        }
        return max;
    }

    /// <summary>Largest |a - b| after both are widened to float64.</summary>
    public static double MaxDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();
    }

    static string First(Tensor flat) =>
        string.Join(", ", flat.narrow(0, 0, Math.Min(8, flat.shape[0])).data<double>().ToArray()
            .Select(v => v.ToString("G7", CultureInfo.InvariantCulture)));
}
