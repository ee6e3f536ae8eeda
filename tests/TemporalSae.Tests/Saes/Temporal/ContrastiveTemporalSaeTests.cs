// The T-SAE baseline: Matryoshka terms, the symmetric InfoNCE against a naive loop, and its gradients.
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;
using TorchSharp;
using static TorchSharp.torch;
using static TemporalSae.Tests.Saes.Temporal.TemporalTestData;

namespace TemporalSae.Tests.Saes.Temporal;

public class ContrastiveTemporalSaeTests
{
    const int DIn = 8, DSae = 20;

    static SaeConfig Config(string boundary) => new()
    {
        Architecture = ContrastiveTemporalSae.RegistryKey,
        DSae = DSae,
        Temporal = new TemporalConfig { Boundary = boundary, HighLevelFraction = 0.25, ContrastiveCoefficient = 2, ContrastiveTemperature = 0.5 },
    };

    static ContrastiveTemporalSae Build(string boundary) => ContrastiveTemporalSae.Create(Config(boundary), DIn, seed: 4);

    /// <summary>Naive InfoNCE: one pair at a time, logits against every batch item.</summary>
    static double ReferenceInfoNce(Tensor high, ActivationBatch batch, string boundary, double temperature)
    {
        int b = (int)high.shape[0], t = (int)high.shape[1];
        var u = high / high.norm(-1, keepdim: true).clamp_min(1e-8);
        double total = 0;
        int count = 0;
        for (int col = 1; col < t; col++)
            for (int row = 0; row < b; row++)
            {
                if (!SameSegment(batch, boundary, row, col, 1)) continue;
                if (batch.Special![row, col].item<bool>() || batch.Special[row, col - 1].item<bool>()) continue;
                var forward = torch.stack(Enumerable.Range(0, b).Select(o => (u[row, col] * u[o, col - 1]).sum()).ToArray()) / temperature;
                var backward = torch.stack(Enumerable.Range(0, b).Select(o => (u[row, col - 1] * u[o, col]).sum()).ToArray()) / temperature;
                double ce1 = -forward.log_softmax(0)[row].item<float>(), ce2 = -backward.log_softmax(0)[row].item<float>();
                total += (ce1 + ce2) / 2;
                count++;
            }
        return total / count;
    }

    [Theory]
    [InlineData("none")]
    [InlineData("sentence")]
    public void Terms_match_their_definitions(string boundary)
    {
        var sae = Build(boundary);
        using (torch.no_grad()) sae.b_enc.add_(0.05);
        var batch = Batch(4, 12, DIn, seed: 3);
        // The step's coefficients as the trainer gets them from the architecture: lambda 0.5, contrastive_coefficient 2.
        var coefficients = SaeRegistry.Default[ContrastiveTemporalSae.RegistryKey]
            .LossCoefficients(new TrainingConfig { L1Coefficient = 0.5, L1WarmupSteps = 0 }, Config(boundary));
        var forward = sae.Forward(new SaeStep(batch, StepCoefficients.At(coefficients, step: 0)));
        Assert.Equal(5, sae.HighLevelLatents);
        Assert.Equal(["mse_high", "mse", "sparsity", "contrastive"], forward.Terms.Keys.ToArray());

        using var noGrad = torch.no_grad();
        var f = sae.Encode(batch);
        var keep = batch.Special!.logical_not();
        var high = f.narrow(-1, 0, 5);
        var xHatHigh = high.matmul(sae.W_dec.narrow(0, 0, 5)) + sae.b_dec;
        var mseHigh = (xHatHigh - batch.X).pow(2).sum(-1).masked_select(keep).mean().item<float>();
        var mse = (sae.Decode(f) - batch.X).pow(2).sum(-1).masked_select(keep).mean().item<float>();
        var sparsity = (f * sae.W_dec.norm(1)).sum(-1).masked_select(keep).mean().item<float>();
        double contrastive = ReferenceInfoNce(high, batch, boundary, 0.5);
        Assert.Equal(mseHigh, forward.Terms["mse_high"].item<float>(), 1e-4);
        Assert.Equal(mse, forward.Terms["mse"].item<float>(), 1e-4);
        Assert.Equal(sparsity, forward.Terms["sparsity"].item<float>(), 1e-5);
        Assert.Equal(contrastive, forward.Terms["contrastive"].item<float>(), 1e-4);
        // contrastive_coefficient weighs the InfoNCE term once.
        Assert.Equal(mseHigh + mse + 0.5 * sparsity + 2 * contrastive, forward.Loss.item<float>(), 1e-3);
        Assert.True(mseHigh > mse, "the prefix alone should reconstruct worse than all latents");
    }

    [Fact]
    public void Contrastive_gradient_pulls_adjacent_codes_together()
    {
        var sae = Build("none");
        using (torch.no_grad()) sae.b_enc.add_(0.1);
        var batch = Batch(6, 10, DIn, seed: 5, specials: false);
        var optimizer = torch.optim.SGD(sae.parameters(), 0.05);
        var only = StepCoefficients.Of(("sparsity", 0), ("contrastive", 1));
        float before = sae.Forward(new SaeStep(batch, only)).Terms["contrastive"].item<float>();
        for (int step = 0; step < 30; step++)
        {
            optimizer.zero_grad();
            sae.Forward(new SaeStep(batch, only)).Loss.backward();
            optimizer.step();
        }
        float after = sae.Forward(new SaeStep(batch, only)).Terms["contrastive"].item<float>();
        Assert.True(after < before, $"contrastive loss went from {before} to {after}");
    }
}
