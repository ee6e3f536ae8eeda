// Gemma-2 against the independent PyTorch reference in Fixtures/make_reference.py: float32, sharded and
// bfloat16-stored random checkpoints, residual stream after every block and the soft-capped logits.
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.Gemma2;

public class Gemma2ReferenceTests(ITestOutputHelper output)
{
    /// <summary>Both sides compute in float32; values reach ~10, so 1e-4 leaves room only for summation order.</summary>
    const double Float32Tolerance = 1e-4;

    [Theory]
    [InlineData("gemma2-tiny")]
    [InlineData("gemma2-tiny-sharded")]
    [InlineData("gemma2-tiny-bf16")]
    public void Matches_reference_in_float32(string fixture)
    {
        using var checkpoint = FixtureCheckpoint.Open(fixture);
        Dictionary<string, Tensor> reference = checkpoint.ReadReference();
        var config = Gemma2Config.Parse(checkpoint.ConfigJson);
        using var model = Gemma2Model.FromWeights(config, checkpoint.Weights, ScalarType.Float32, CPU);

        double worstResid = 0, worstLogits = 0;
        for (int layer = 0; layer < model.Layers; layer++)
        {
            ModelOutput result = model.Forward(reference["input_ids"], new ResidHook(layer));
            worstResid = Math.Max(worstResid, TensorAssert.Close(reference[$"resid_post.{layer}"], result.ResidPost!,
                Float32Tolerance, $"{fixture} resid_post.{layer}"));
            worstLogits = Math.Max(worstLogits, TensorAssert.Close(reference["logits"], result.Logits!,
                Float32Tolerance, $"{fixture} logits (hook at {layer})"));
            result.Logits!.Dispose();
            result.ResidPost!.Dispose();
        }

        output.WriteLine($"{fixture}: max |diff| resid_post {worstResid:E2}, logits {worstLogits:E2}");
        foreach (Tensor t in reference.Values) t.Dispose();
    }

    [Fact]
    public void Bfloat16_compute_stays_near_the_float32_reference()
    {
        using var checkpoint = FixtureCheckpoint.Open("gemma2-tiny-bf16");
        Dictionary<string, Tensor> reference = checkpoint.ReadReference();
        var config = Gemma2Config.Parse(checkpoint.ConfigJson);
        using var model = Gemma2Model.FromWeights(config, checkpoint.Weights, ScalarType.BFloat16, CPU);

        ModelOutput result = model.Forward(reference["input_ids"], new ResidHook(model.Layers - 1));
        Assert.Equal(ScalarType.BFloat16, result.ResidPost!.dtype);
        Assert.Equal(ScalarType.Float32, result.Logits!.dtype);
        // bfloat16 keeps 8 significant bits (relative step 2^-8 ~ 0.4%) and rounds after every operation; through
        // attention scores near the cap that compounds to ~1% of the residual's scale (measured: 0.15 on logits
        // capped at 3, 0.14 on a residual of max 13.8). The bounds are twice that: a wrong cast or a skipped
        // bf16 rounding step that HF makes would still be hidden, but a broken bf16 path is off by whole units.
        double logits = TensorAssert.Close(reference["logits"], result.Logits, 0.3, "bf16 logits");
        double scale = reference[$"resid_post.{model.Layers - 1}"].abs().max().item<float>();
        double resid = TensorAssert.Close(reference[$"resid_post.{model.Layers - 1}"], result.ResidPost, 0.02 * scale,
            "bf16 resid_post");
        output.WriteLine($"bf16 compute: max |diff| logits {logits:E2}, last resid_post {resid:E2} (max |value| {scale:F2})");
        foreach (Tensor t in reference.Values) t.Dispose();
    }
}
