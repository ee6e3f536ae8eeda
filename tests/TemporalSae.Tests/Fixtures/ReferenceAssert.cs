// Element-wise comparison of tensors with an absolute tolerance; a failure prints the largest difference, where it
// is, and the first values of both tensors so a mismatch can be diagnosed from the test log alone.
using System.Globalization;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Fixtures;

internal static class ReferenceAssert
{
    /// <summary>Largest |expected - actual| after both are widened to float64.</summary>
    public static double MaxAbsDiff(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        return (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
    }

    public static double Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        if (!expected.shape.SequenceEqual(actual.shape))
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
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

    static string First(Tensor flat) =>
        string.Join(", ", flat.narrow(0, 0, Math.Min(8, flat.shape[0])).data<double>().ToArray()
            .Select(v => v.ToString("G7", CultureInfo.InvariantCulture)));
}
