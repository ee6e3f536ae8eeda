// The SAE stage's report of the learned temporal kernel, on a kernel written by hand.
using TemporalSae.Manifests;
using TemporalSae.Saes.Temporal;
using TorchSharp;
using static TemporalSae.Tests.Saes.Temporal.TemporalTestData;

namespace TemporalSae.Tests.Saes.Temporal;

public class TemporalKernelReportTests
{
    [Fact]
    public void Mean_abs_c_per_lag_and_level_of_a_known_kernel()
    {
        IReadOnlyList<ConsistencyLevel> levels =
        [
            new() { Fraction = 0.5, Scales = [], Weight = 0 },
            new() { Fraction = 0.5, Scales = [1], Weight = 0.1 },
        ];
        var sae = TemporalSparseAutoencoder.Create(Config(dSae: 4, buffer: 3, boundary: "none", levels: levels), dIn: 6, seed: 1);
        using (torch.no_grad())
            sae.C.copy_(torch.tensor(new float[]
            {
                1, -1, 2, -2,      // lag 0
                0.5f, 0.5f, 0, 0,  // lag 1
                0, -0.3f, 1, 1,    // lag 2
            }, [3, 4]));

        var json = TemporalKernelReport.ToJson(sae);

        Assert.Equal(3, json["buffer"]!.GetValue<int>());
        var byLevel = json["mean_abs_c_by_level"]!.AsObject();
        Assert.Equal(["level0", "level1"], byLevel.Select(p => p.Key).ToArray());
        double[] Values(string level) => byLevel[level]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal([1, 0.5, 0.15], Values("level0"), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([2, 0, 1], Values("level1"), (a, b) => Math.Abs(a - b) < 1e-6);
    }
}
