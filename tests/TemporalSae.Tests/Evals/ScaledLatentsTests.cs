// Decoder-norm scaled latents: moving a latent's scale from its decoder row into its encoder column leaves the SAE's
// function unchanged, and must leave what the evaluations compare unchanged too.
using TemporalSae.Evals;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Evals;

public class ScaledLatentsTests
{
    static SparseAutoencoder Standard(int dIn, int dSae, long seed) =>
        SaeRegistry.Default[StandardSae.RegistryKey].Create(new TemporalSae.Manifests.SaeConfig { DSae = dSae }, dIn, seed);

    [Fact]
    public void Scaled_latents_do_not_depend_on_how_a_latent_splits_its_scale()
    {
        using var sae = Standard(dIn: 8, dSae: 16, seed: 3);
        using var x = randn(32, 8, generator: new Generator(5));
        var batch = new ActivationBatch(x);
        using var before = sae.Encode(batch);
        using var reconstructionBefore = sae.Decode(before);
        using var scaledBefore = new ScaledLatents(sae).Encode(batch);

        // Latent 2 fires 10x as strongly and writes a 10x shorter row: the same SAE.
        var parameters = sae.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            parameters["W_enc"].narrow(1, 2, 1).mul_(10);
            parameters["b_enc"].narrow(0, 2, 1).mul_(10);
            parameters["W_dec"].narrow(0, 2, 1).div_(10);
        }
        using var after = sae.Encode(batch);
        using var reconstructionAfter = sae.Decode(after);
        using var scaledAfter = new ScaledLatents(sae).Encode(batch);

        Assert.True(reconstructionAfter.allclose(reconstructionBefore, rtol: 1e-5, atol: 1e-6));
        Assert.True(before.select(1, 2).gt(0).any().item<bool>(), "the test needs latent 2 to fire");
        Assert.False(after.allclose(before, rtol: 1e-3), "raw features change with the split");
        Assert.True(scaledAfter.allclose(scaledBefore, rtol: 1e-5, atol: 1e-6), "scaled features must not");
    }

    [Fact]
    public void Scaled_latents_are_features_times_decoder_row_norms()
    {
        using var sae = Standard(dIn: 4, dSae: 6, seed: 1);
        using var x = randn(5, 4, generator: new Generator(2));
        var batch = new ActivationBatch(x);
        using var latents = new ScaledLatents(sae);
        Tensor wDec = sae.named_parameters().Single(p => p.name == "W_dec").parameter;
        using var f = sae.Encode(batch);
        float[] rowNorms = Enumerable.Range(0, 6).Select(i => (float)Math.Sqrt(wDec[i].pow(2).sum().item<float>())).ToArray();
        float[] expected = f.data<float>().ToArray().Select((v, j) => v * rowNorms[j % 6]).ToArray();
        using var scaled = latents.Encode(batch);
        Assert.Equal(expected, scaled.data<float>().ToArray(), (a, b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1, Math.Abs(a)));
    }
}
