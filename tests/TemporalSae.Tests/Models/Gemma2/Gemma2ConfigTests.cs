// Reading Gemma-2 config.json: HF field names and defaults, the sliding/full layer pattern, and clear refusals.
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Models.Gemma2;

public class Gemma2ConfigTests
{
    const Gemma2AttentionKind S = Gemma2AttentionKind.Sliding;
    const Gemma2AttentionKind F = Gemma2AttentionKind.Full;

    [Fact]
    public void Reads_the_fixture_config_under_HF_names()
    {
        var config = Gemma2Config.Parse(File.ReadAllText(Path.Combine(FixtureCheckpoint.Root, "gemma2-tiny", "config.json")));
        Assert.Equal(64, config.VocabSize);
        Assert.Equal(32, config.HiddenSize);
        Assert.Equal(64, config.IntermediateSize);
        Assert.Equal(4, config.NumHiddenLayers);
        Assert.Equal(4, config.NumAttentionHeads);
        Assert.Equal(2, config.NumKeyValueHeads);
        Assert.Equal(2, config.KeyValueGroups);
        Assert.Equal(8, config.HeadDim);
        Assert.Equal(12, config.QueryPreAttnScalar);
        Assert.Equal(4, config.SlidingWindow);
        Assert.Equal(5.0, config.AttnLogitSoftcapping);
        Assert.Equal(3.0, config.FinalLogitSoftcapping);
        Assert.Equal(1e-6, config.RmsNormEps);
        Assert.Equal("gelu_pytorch_tanh", config.HiddenActivation);
        // No layer_types in this file: HF's pattern, even layers slide.
        Assert.Equal([S, F, S, F], config.LayerTypes);
    }

    [Fact]
    public void Layer_types_override_the_alternating_default()
    {
        var config = Gemma2Config.Parse("""
            {"model_type": "gemma2", "num_hidden_layers": 3,
             "layer_types": ["full_attention", "full_attention", "sliding_attention"]}
            """);
        Assert.Equal([F, F, S], config.LayerTypes);
    }

    [Fact]
    public void Missing_fields_take_HF_defaults_and_null_turns_soft_capping_off()
    {
        var config = Gemma2Config.Parse("""{"final_logit_softcapping": null, "hidden_act": "gelu_new"}""");
        Assert.Equal(2304, config.HiddenSize);
        Assert.Equal(26, config.NumHiddenLayers);
        Assert.Equal(256, config.QueryPreAttnScalar);
        Assert.Equal(50.0, config.AttnLogitSoftcapping);
        Assert.Null(config.FinalLogitSoftcapping);
        Assert.Equal("gelu_new", config.HiddenActivation);
        Assert.Equal(26, config.LayerTypes.Count);
    }

    [Theory]
    [InlineData("""{"model_type": "gpt2"}""", "expected \"gemma2\"")]
    [InlineData("""{"hidden_size": "32"}""", "hidden_size is \"32\", expected an integer")]
    [InlineData("""{"num_attention_heads": 6, "num_key_value_heads": 4}""", "not a multiple of num_key_value_heads")]
    [InlineData("""{"num_hidden_layers": 2, "layer_types": ["full_attention"]}""", "layer_types has 1 entries")]
    [InlineData("""{"num_hidden_layers": 1, "layer_types": ["local"]}""", "\"local\"")]
    [InlineData("""{"hidden_activation": "relu"}""", "hidden_activation is \"relu\"")]
    [InlineData("""{"attention_bias": true}""", "attention_bias is true")]
    [InlineData("""{"rope_scaling": {"type": "linear", "factor": 2.0}}""", "rope_scaling")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{"vocab_size": 64,""", "not valid JSON")]
    public void Unsupported_or_inconsistent_settings_are_refused(string json, string fragment)
    {
        var error = Assert.Throws<InvalidInputException>(() => Gemma2Config.Parse(json, "m/config.json"));
        Assert.StartsWith("m/config.json", error.Message);
        Assert.Contains(fragment, error.Message);
    }
}
