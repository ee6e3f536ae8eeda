// The built-in model trainer: beats the bigram baseline on structure a bigram cannot see, is deterministic, and its
// checkpoint loads through the GPT-2 loader with a vocabulary map that converts ids both ways.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Tests.Fixtures;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.BuiltinLm;

public class BuiltinLmTrainerTests
{
    // Models this small gain nothing from a second thread, and on a shared 2-core machine two threads can be 10x slower.
    public BuiltinLmTrainerTests() => TorchRuntime.SetThreads(1);

    static readonly BuiltinModelConfig Tiny = new()
    {
        Layers = 2,
        Width = 64,
        Heads = 4,
        Vocab = 32,
        Steps = 150,
        BatchSize = 16,
        LearningRate = 3e-3,
        WarmupSteps = 20,
    };

    [Fact]
    public void BeatsTheBigramBaselineAndSavesALoadableCheckpoint()
    {
        using var dir = new TempFolder();
        using var train = SyntheticWindows.Make(256, 32, states: 40, seed: 1);
        using var val = SyntheticWindows.Make(64, 32, states: 40, seed: 2);
        var log = new List<string>();
        var report = BuiltinLmTrainer.Train(Tiny, seed: 5, train, val, dir.Path, log.Add);

        Assert.Equal(150, report.Steps);
        Assert.Equal(32, report.VocabSize);
        Assert.True(report.BigramCe < report.UnigramCe, $"bigram {report.BigramCe} should beat unigram {report.UnigramCe}");
        Assert.True(report.ValCe < report.BigramCe - 0.5,
            $"val CE {report.ValCe:F4} must clearly beat the bigram {report.BigramCe:F4}\n{string.Join("\n", log)}");
        Assert.True(report.TokensPerSecond > 0);

        using var model = SubjectModels.Load(dir.Path);
        var map = VocabMap.TryLoad(dir.Path)!;
        Assert.Equal(32, map.Size);
        using var modelIds = map.ToModel(val[..4]);
        using (no_grad())
        {
            var logits = model.Forward(modelIds).Logits!;
            double ce = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, 32), modelIds[.., 1..].reshape(-1)).item<float>();
            Assert.InRange(ce, report.ValCe - 0.3, report.ValCe + 0.3);
        }
    }

    [Fact]
    public void SameSeedGivesByteIdenticalCheckpoints()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        using var train = SyntheticWindows.Make(64, 16, states: 20, seed: 3);
        using var val = SyntheticWindows.Make(16, 16, states: 20, seed: 4);
        var config = Tiny with { Steps = 8, Width = 32, Vocab = 16 };
        var ra = BuiltinLmTrainer.Train(config, 9, train, val, a.Path, null);
        var rb = BuiltinLmTrainer.Train(config, 9, train, val, b.Path, null);
        Assert.Equal(ra.ValCe, rb.ValCe);
        Assert.Equal(File.ReadAllBytes(a.File("model.safetensors")), File.ReadAllBytes(b.File("model.safetensors")));
        Assert.Equal(File.ReadAllText(a.File("vocab_map.json")), File.ReadAllText(b.File("vocab_map.json")));
        var rc = BuiltinLmTrainer.Train(config, 10, train, val, a.Path, null);
        Assert.NotEqual(ra.ValCe, rc.ValCe);
    }

    [Fact]
    public void MismatchedWindowsAreRejected()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<InvalidInputException>(() =>
            BuiltinLmTrainer.Train(Tiny, 1, zeros(4, 8, dtype: ScalarType.Int64), zeros(4, 9, dtype: ScalarType.Int64), dir.Path, null));
        Assert.Contains("8 tokens", e.Message);
        Assert.Throws<InvalidInputException>(() => BuiltinLmTrainer.Train(Tiny, 1, zeros(4, 8), zeros(4, 8), dir.Path, null));
    }
}
