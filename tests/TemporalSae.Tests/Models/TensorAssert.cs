// Tensor comparisons for tests that print the first differing values when they fail.
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models;

static class TensorAssert
{
    public static void Equal(Tensor expected, Tensor actual, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        if (expected.numel() == 0) return;
        using var same = expected.eq(actual).all();
        Assert.True(same.item<bool>(), $"{what}: tensors differ, max |diff| {MaxDiff(expected, actual)}");
    }

    public static void Close(Tensor expected, Tensor actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = MaxDiff(expected, actual);
        Assert.True(diff <= tolerance,
            $"{what}: max |diff| {diff} > {tolerance}; expected starts [{Head(expected)}], actual starts [{Head(actual)}]");
    }

    public static double MaxDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    static string Head(Tensor t)
    {
        using var scope = NewDisposeScope();
        var flat = t.to_type(ScalarType.Float64).reshape(-1);
        return string.Join(", ", flat.data<double>().Take(4).Select(v => v.ToString("G6")));
    }
}
