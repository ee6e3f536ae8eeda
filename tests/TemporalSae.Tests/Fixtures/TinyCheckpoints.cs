// Tiny random GPT-2 and Gemma-2 checkpoints in Hugging Face layout that carry their own tokenizer files, for running
// the whole pipeline on a subject model other than the built-in one. 4 blocks (blocks.3 exists, as the runs' hook),
// 32 wide, context 128 and more; weights at the reference models' init scale (std 0.02). Shared with the CLI tests.
using TemporalSae.Models;
using TemporalSae.Safetensors;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Fixtures;

static class TinyCheckpoints
{
    /// <summary>config.json, model.safetensors, vocab.json and merges.txt (<see cref="TinyTokenizers.WriteGpt2Bpe"/>).</summary>
    public static void WriteGpt2(string folder, long seed = 1)
    {
        Directory.CreateDirectory(folder);
        int vocab = TinyTokenizers.WriteGpt2Bpe(folder);
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = vocab, NPositions = 256, NEmbd = 32, NLayer = 4, NHead = 2 }, seed);
        model.Save(folder);
    }

    /// <summary>config.json, model.safetensors and tokenizer.model (<see cref="TinyTokenizers.WriteSentencePiece"/>).</summary>
    public static void WriteGemma2(string folder, long seed = 1)
    {
        Directory.CreateDirectory(folder);
        int vocab = TinyTokenizers.WriteSentencePiece(Path.Combine(folder, "tokenizer.model"));
        string json = $$"""
            {
              "architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "vocab_size": {{vocab}}, "hidden_size": 32,
              "intermediate_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
              "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
              "query_pre_attn_scalar": 8, "sliding_window": 16, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
              "tie_word_embeddings": true, "pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2, "torch_dtype": "float32"
            }
            """;
        File.WriteAllText(Path.Combine(folder, SubjectModels.ConfigFileName), json);
        Gemma2Config config = Gemma2Config.Parse(json);
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed, CPU);
        // Gemma's RMSNorm scales by (1 + weight), so zero norm weights are the identity.
        var tensors = Gemma2Model.ExpectedWeightShapes(config).ToDictionary(kv => kv.Key,
            kv => kv.Value.Length == 1 ? zeros(kv.Value) : randn(kv.Value, generator: generator).mul_(0.02));
        SafetensorsWriter.Write(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
