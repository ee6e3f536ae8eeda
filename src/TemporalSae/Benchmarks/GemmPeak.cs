// The machine's dense matrix-multiply throughput, measured in the same run as a benchmark so ratios to it are
// meaningful on a shared or throttled machine. The shape, [4096, 768] @ [768, 6144], is a GPT-2-small
// MLP-sized GEMM (about 180 GFLOP/s fp32 and 375 bf16 on 2 threads of the project's CPU).
using System.Diagnostics;
using TemporalSae.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Benchmarks;

public sealed record GemmPeakResult(double Gflops, double BestSeconds, int M, int K, int N, ScalarType Dtype, int Repeats);

public static class GemmPeak
{
    public const int M = 4096, K = 768, N = 6144;

    /// <summary>Best-of-<paramref name="repeats"/> GFLOP/s (2 * M * K * N per product) after one warm-up product.</summary>
    public static GemmPeakResult Measure(ScalarType dtype = ScalarType.Float32, int repeats = 5)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), "repeats must be at least 1");
        using var scope = NewDisposeScope();
        using var generator = new Generator(0, CPU);
        var device = TorchRuntime.Device;
        var a = randn([M, K], generator: generator).to(dtype).to(device); // [M, K]
        var b = randn([K, N], generator: generator).to(dtype).to(device); // [K, N]
        // Into one output buffer: a fresh [M, N] output each time would time the page faults of its memory too (on this
        // project's virtual machines as much as 40% of the product).
        var c = zeros([M, N], dtype: dtype, device: device);
        c.addmm_(a, b, beta: 0, alpha: 1);
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            c.addmm_(a, b, beta: 0, alpha: 1); // c = a @ b
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return new GemmPeakResult(2.0 * M * K * N / best / 1e9, best, M, K, N, dtype, repeats);
    }
}
