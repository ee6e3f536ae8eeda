// A checkpoint that does not fit its config is refused with every problem listed at once.
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using static TemporalSae.Tests.Models.Gemma2.Gemma2TestModels;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.Gemma2;

public class Gemma2WeightCheckTests
{
    [Fact]
    public void Missing_misshaped_and_unexpected_tensors_are_all_listed()
    {
        using var scope = NewDisposeScope();
        Gemma2Config config = Config(Gemma2AttentionKind.Sliding, Gemma2AttentionKind.Full);
        Dictionary<string, Tensor> weights = RandomWeights(config, seed: 1);
        weights.Remove("model.layers.1.mlp.up_proj.weight");
        weights.Remove("model.norm.weight");
        weights["model.layers.0.self_attn.k_proj.weight"] = zeros(16, 16);
        weights["model.layers.0.input_layernorm.weight"] = zeros(16, dtype: ScalarType.Int64);
        weights["model.layers.2.mlp.up_proj.weight"] = zeros(32, 16);

        string message = Assert.Throws<InvalidInputException>(
            () => Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU, "ckpt/")).Message;
        Assert.StartsWith("ckpt/", message);
        Assert.Contains("5 problem(s)", message);
        Assert.Contains("missing model.layers.1.mlp.up_proj.weight (expected shape [32, 16])", message);
        Assert.Contains("missing model.norm.weight (expected shape [16])", message);
        Assert.Contains("model.layers.0.self_attn.k_proj.weight has shape [16, 16], expected [8, 16]", message);
        Assert.Contains("model.layers.0.input_layernorm.weight has dtype Int64", message);
        Assert.Contains("unexpected tensor model.layers.2.mlp.up_proj.weight", message);
    }

    [Fact]
    public void Tied_head_and_rotary_buffers_are_ignored_like_HF_does()
    {
        using var scope = NewDisposeScope();
        Gemma2Config config = Config(Gemma2AttentionKind.Sliding);
        Dictionary<string, Tensor> weights = RandomWeights(config, seed: 2);
        weights["lm_head.weight"] = zeros(50, 16);
        weights["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(2);
        using var model = Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU);
        // With the zero lm_head actually used, every logit would be 0.
        Assert.True(model.Forward(Tokens(1, 4, 50, seed: 3)).Logits!.abs().max().item<float>() > 0.01);
    }

    [Fact]
    public void Untied_head_is_required_and_used()
    {
        using var scope = NewDisposeScope();
        Gemma2Config config = Config(Gemma2AttentionKind.Full) with { TieWordEmbeddings = false };
        Dictionary<string, Tensor> weights = RandomWeights(config, seed: 4);
        weights["lm_head.weight"] = zeros(50, 16);
        using var model = Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU);
        Assert.Equal(0, model.Forward(Tokens(1, 4, 50, seed: 5)).Logits!.abs().max().item<float>());

        weights.Remove("lm_head.weight");
        Assert.Contains("missing lm_head.weight", Assert.Throws<InvalidInputException>(
            () => Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU)).Message);
    }

    [Fact]
    public void Weights_outlive_the_caller_disposing_its_tensors_and_float16_is_refused_as_compute_dtype()
    {
        Gemma2Config config = Config(Gemma2AttentionKind.Sliding);
        Dictionary<string, Tensor> weights = RandomWeights(config, seed: 6);
        using var model = Gemma2Model.FromWeights(config, weights, ScalarType.Float32, CPU);
        Assert.Contains("float32 or bfloat16", Assert.Throws<InvalidInputException>(
            () => Gemma2Model.FromWeights(config, weights, ScalarType.Float16, CPU)).Message);
        foreach (Tensor t in weights.Values) t.Dispose();

        using var scope = NewDisposeScope();
        Assert.False(model.Forward(Tokens(1, 4, 50, seed: 7)).Logits!.isnan().any().item<bool>());
    }
}
