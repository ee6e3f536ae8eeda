// config.json as Hugging Face publishes it for gpt2 (fields copied from the hub's gpt2/config.json), and the
// round trip of the config this project writes.
using System.Text.Json;
using TemporalSae.Benchmarks;
using TemporalSae.Models;

namespace TemporalSae.Tests.Models;

public class Gpt2ConfigTests
{
    const string HubGpt2Config = """
        {
          "activation_function": "gelu_new",
          "architectures": ["GPT2LMHeadModel"],
          "attn_pdrop": 0.1,
          "bos_token_id": 50256,
          "embd_pdrop": 0.1,
          "eos_token_id": 50256,
          "initializer_range": 0.02,
          "layer_norm_epsilon": 1e-05,
          "model_type": "gpt2",
          "n_ctx": 1024,
          "n_embd": 768,
          "n_head": 12,
          "n_layer": 12,
          "n_positions": 1024,
          "resid_pdrop": 0.1,
          "summary_activation": null,
          "summary_first_dropout": 0.1,
          "summary_proj_to_labels": true,
          "summary_type": "cls_index",
          "summary_use_proj": true,
          "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
          "vocab_size": 50257
        }
        """;

    [Fact]
    public void ReadsTheHubGpt2Config()
    {
        using var doc = JsonDocument.Parse(HubGpt2Config);
        var config = Gpt2Config.FromJson(doc.RootElement, "gpt2/config.json");
        Assert.Equal(HarvestBenchmark.Gpt2Small, config);
        Assert.Equal(3072, config.Inner);
        Assert.Equal(64, config.HeadDim);
    }

    [Fact]
    public void WrittenConfigReadsBack()
    {
        var config = new Gpt2Config { VocabSize = 8192, NPositions = 128, NEmbd = 256, NLayer = 4, NHead = 4, LayerNormEpsilon = 1e-6 };
        using var doc = JsonDocument.Parse(config.ToJson());
        Assert.Equal(config, Gpt2Config.FromJson(doc.RootElement, "written"));
    }

    [Fact]
    public void UnsupportedAttentionVariantsAreRejected()
    {
        using var doc = JsonDocument.Parse(HubGpt2Config.Replace("\"n_ctx\": 1024,", "\"n_ctx\": 1024, \"scale_attn_by_inverse_layer_idx\": true,"));
        var e = Assert.Throws<TemporalSae.Infrastructure.InvalidInputException>(() => Gpt2Config.FromJson(doc.RootElement, "x"));
        Assert.Contains("scale_attn_by_inverse_layer_idx", e.Message);
    }
}
