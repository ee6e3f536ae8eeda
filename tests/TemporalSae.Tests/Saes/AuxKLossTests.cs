// The aux-k loss: hand-computed values of its normalisation and scale, zero without dead latents, and a gradient for a
// dead latent whose pre-activations are all negative in every architecture that has the loss.
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;
using TemporalSae.Tests.Saes.Temporal;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Saes;

public class AuxKLossTests
{
    // d_in = 4, so k_aux = 2. Two tokens, three latents; W_dec rows are unit vectors, so e_hat is easy to write down.
    static readonly float[] Pre = [5, 1, -2, 3, 0, -1];                      // [2, 3]
    static readonly float[] Residual = [1, 2, 0, 0, -1, 0, 0, 0];            // [2, 4]; mean [0, 1, 0, 0], variance 4
    static readonly float[] Decoder = [0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0];  // [3, 4]

    [Theory]
    // One dead latent (2): a = -2 and -1, e_hat = [-2, 0, 0, 0] and [-1, 0, 0, 0]; error 9 + 4 and 0; scale 1/2.
    [InlineData(new[] { false, false, true }, 0.5 * 13 / 4)]
    // Two dead latents (1, 2) = k_aux: e_hat = [-2, 0, 1, 0] and [-1, 0, 0, 0]; error 9 + 4 + 1 and 0; scale 1.
    [InlineData(new[] { false, true, true }, 14.0 / 4)]
    public void Known_answer_with_residual_variance_normalisation_and_dead_count_scale(bool[] dead, double expected)
    {
        using var pre = torch.tensor(Pre, [2, 3]);
        using var residual = torch.tensor(Residual, [2, 4]);
        using var wDec = torch.tensor(Decoder, [3, 4]);
        using var mask = torch.tensor(dead);
        using var loss = AuxKLoss.Compute(pre, residual, wDec, mask);
        Assert.Equal(expected, loss.item<float>(), 5);

        // A special token, however far off, leaves the value unchanged.
        using var prePlus = torch.cat([pre, torch.tensor(new float[] { 0, 0, 40 }, [1, 3])]);
        using var residualPlus = torch.cat([residual, torch.tensor(new float[] { 9, 9, 9, 9 }, [1, 4])]);
        using var keep = torch.tensor(new[] { true, true, false });
        using var masked = AuxKLoss.Compute(prePlus, residualPlus, wDec, mask, keep);
        Assert.Equal(expected, masked.item<float>(), 5);
    }

    [Fact]
    public void Zero_when_no_latent_is_dead()
    {
        using var pre = torch.tensor(Pre, [2, 3]);
        using var residual = torch.tensor(Residual, [2, 4]);
        using var wDec = torch.tensor(Decoder, [3, 4]);
        using var none = torch.zeros(3, ScalarType.Bool);
        Assert.Equal(0f, AuxKLoss.Compute(pre, residual, wDec, none).item<float>());
        Assert.Equal(0f, AuxKLoss.Compute(pre, residual, wDec, null).item<float>());

        var sae = Build(TopKSae.RegistryKey);
        using var x = torch.randn([32, DIn], generator: new Generator(3));
        var forward = sae.Forward(new SaeStep(new ActivationBatch(x), Coefficients, torch.zeros(DSae, ScalarType.Bool)));
        Assert.Equal(0f, forward.Terms[AuxKLoss.Term].item<float>());
    }

    const int DIn = 8, DSae = 24;

    static readonly StepCoefficients Coefficients = StepCoefficients.Of((AuxKLoss.Term, 1.0), ("sparsity", 0.0), ("contrastive", 0.0));

    static SparseAutoencoder Build(string architecture) => SaeRegistry.Default.Create(new SaeConfig
    {
        Architecture = architecture,
        DSae = DSae,
        K = 4,
        Temporal = new TemporalConfig { Activation = "topk", HighLevelFraction = 0.25 },
    }, DIn, seed: 5);

    [Theory]
    [InlineData(TopKSae.RegistryKey)]
    [InlineData(BatchTopKSae.RegistryKey)]
    [InlineData(ContrastiveTemporalSae.RegistryKey)]
    [InlineData(TemporalSparseAutoencoder.RegistryKey)]
    public void A_dead_latent_with_only_negative_pre_activations_gets_a_gradient(string architecture)
    {
        var sae = Build(architecture);
        var bEnc = sae.named_parameters().Single(p => p.name == "b_enc").parameter;
        using (torch.no_grad()) bEnc[0] = torch.tensor(-50f);     // latent 0 never fires and never comes near it
        var batch = SaeRegistry.Default[architecture].TrainsOnSequences
            ? TemporalTestData.Batch(3, 8, DIn, seed: 2)
            : new ActivationBatch(torch.randn([32, DIn], generator: new Generator(2)));
        using var dead = torch.zeros(DSae, ScalarType.Bool);
        dead[0] = torch.tensor(true);

        var forward = sae.Forward(new SaeStep(batch, Coefficients, dead));
        Assert.True(forward.Terms[AuxKLoss.Term].item<float>() > 0);
        forward.Loss.backward();
        // Latent 0 is in no top k, so only aux-k can reach it; its pre-activations are all below -40.
        float gradient = bEnc.grad![0].item<float>();
        Assert.True(Math.Abs(gradient) > 1e-4, $"b_enc[0] gradient {gradient}");
    }
}
