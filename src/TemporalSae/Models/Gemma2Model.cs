// Gemma-2 forward pass for inference; follows Hugging Face's modeling_gemma2.py (eager attention) and its key names:
// (1 + w) RMSNorm in float32, embeddings scaled by sqrt(hidden_size) cast to the compute dtype, norms before and after
// both attention and MLP, grouped-query attention with rotary embeddings, query_pre_attn_scalar^-0.5 scaling,
// tanh soft-capping of attention scores and of the final logits, sliding-window attention on the layers that
// layer_types marks (even layers by default), GeGLU MLP, lm_head tied to embed_tokens.
using TemporalSae.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Models;

/// <summary>
/// A Gemma-2 causal language model built from Hugging Face-named tensors. Weights are frozen and the pass runs
/// without autograd. Hooks see blocks.L.hook_resid_post, the output of block L before the final norm; with a
/// Replace function the output's ResidPost is still the block's own (clean) output, and the replacement continues
/// the pass. ResidPost is in the compute dtype; logits are float32 [B, T, vocab].
/// </summary>
public sealed class Gemma2Model : ISubjectModel
{
    /// <summary>The tensors of one decoder layer, converted to the compute dtype (norm scales as float32 1 + w).</summary>
    sealed class Layer : IDisposable
    {
        public required Tensor QProj { get; init; }     // [heads * head_dim, hidden]
        public required Tensor KProj { get; init; }     // [kv_heads * head_dim, hidden]
        public required Tensor VProj { get; init; }     // [kv_heads * head_dim, hidden]
        public required Tensor OProj { get; init; }     // [hidden, heads * head_dim]
        public required Tensor GateProj { get; init; }  // [intermediate, hidden]
        public required Tensor UpProj { get; init; }    // [intermediate, hidden]
        public required Tensor DownProj { get; init; }  // [hidden, intermediate]
        public required Tensor InputNorm { get; init; }
        public required Tensor PostAttentionNorm { get; init; }
        public required Tensor PreFeedforwardNorm { get; init; }
        public required Tensor PostFeedforwardNorm { get; init; }
        public required bool Sliding { get; init; }

        public void Dispose()
        {
            foreach (Tensor t in new[] { QProj, KProj, VProj, OProj, GateProj, UpProj, DownProj, InputNorm,
                         PostAttentionNorm, PreFeedforwardNorm, PostFeedforwardNorm })
                t.Dispose();
        }
    }

    const string LmHeadKey = "lm_head.weight";

    readonly Gemma2Config config;
    readonly Tensor embedTokens;  // [vocab, hidden], compute dtype
    readonly Tensor lmHead;       // [vocab, hidden]; the same tensor as embedTokens when tied
    readonly Tensor finalNorm;    // [hidden], float32 1 + w
    readonly Layer[] layers;
    bool disposed;

    Gemma2Model(Gemma2Config config, ScalarType computeDtype, Device device, Tensor embedTokens, Tensor lmHead,
        Tensor finalNorm, Layer[] layers)
    {
        this.config = config;
        ComputeDtype = computeDtype;
        Device = device;
        this.embedTokens = embedTokens;
        this.lmHead = lmHead;
        this.finalNorm = finalNorm;
        this.layers = layers;
    }

    public string ModelType => "gemma2";
    public int DModel => config.HiddenSize;
    public int Layers => config.NumHiddenLayers;
    public int VocabSize => config.VocabSize;
    public Gemma2Config Config => config;
    public ScalarType ComputeDtype { get; }
    public Device Device { get; }

    /// <summary>The tensors a checkpoint for this config must hold, by HF name, with their shapes.</summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedWeightShapes(Gemma2Config config)
    {
        long h = config.HiddenSize, inter = config.IntermediateSize, hd = config.HeadDim;
        long q = config.NumAttentionHeads * hd, kv = config.NumKeyValueHeads * hd;
        var shapes = new Dictionary<string, long[]> { ["model.embed_tokens.weight"] = [config.VocabSize, h] };
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}.";
            shapes[p + "self_attn.q_proj.weight"] = [q, h];
            shapes[p + "self_attn.k_proj.weight"] = [kv, h];
            shapes[p + "self_attn.v_proj.weight"] = [kv, h];
            shapes[p + "self_attn.o_proj.weight"] = [h, q];
            shapes[p + "mlp.gate_proj.weight"] = [inter, h];
            shapes[p + "mlp.up_proj.weight"] = [inter, h];
            shapes[p + "mlp.down_proj.weight"] = [h, inter];
            shapes[p + "input_layernorm.weight"] = [h];
            shapes[p + "post_attention_layernorm.weight"] = [h];
            shapes[p + "pre_feedforward_layernorm.weight"] = [h];
            shapes[p + "post_feedforward_layernorm.weight"] = [h];
        }

        shapes["model.norm.weight"] = [h];
        if (!config.TieWordEmbeddings) shapes[LmHeadKey] = [config.VocabSize, h];
        return shapes;
    }

    /// <summary>
    /// Builds the model from HF-named tensors (any floating dtype, e.g. BF16 as stored). The weights are converted
    /// to <paramref name="computeDtype"/> (float32 or bfloat16) on <paramref name="device"/> (default: the
    /// runtime's device); the caller keeps ownership of the dictionary's tensors and may dispose them afterwards.
    /// Missing, mis-shaped, non-float and unexpected tensors are all listed in one InvalidInputException.
    /// </summary>
    public static Gemma2Model FromWeights(Gemma2Config config, IReadOnlyDictionary<string, Tensor> weights,
        ScalarType computeDtype, Device? device = null, string source = "Gemma-2 checkpoint")
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        if (computeDtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new InvalidInputException(
                $"{source}: compute dtype {computeDtype} is not supported; use float32 or bfloat16.");
        config.Validate(source);
        CheckWeights(config, weights, source);

        Device target = device ?? TorchRuntime.Device;
        var owned = new List<IDisposable>();
        try
        {
            Tensor Matrix(string name) => Keep(owned, Convert(weights[name], computeDtype, target));
            Tensor Norm(string name) => Keep(owned, NormScale(weights[name], computeDtype, target));

            Tensor embed = Matrix("model.embed_tokens.weight");
            Tensor head = config.TieWordEmbeddings ? embed : Matrix(LmHeadKey);
            var layers = new Layer[config.NumHiddenLayers];
            for (int i = 0; i < layers.Length; i++)
            {
                string p = $"model.layers.{i}.";
                layers[i] = new Layer
                {
                    QProj = Matrix(p + "self_attn.q_proj.weight"),
                    KProj = Matrix(p + "self_attn.k_proj.weight"),
                    VProj = Matrix(p + "self_attn.v_proj.weight"),
                    OProj = Matrix(p + "self_attn.o_proj.weight"),
                    GateProj = Matrix(p + "mlp.gate_proj.weight"),
                    UpProj = Matrix(p + "mlp.up_proj.weight"),
                    DownProj = Matrix(p + "mlp.down_proj.weight"),
                    InputNorm = Norm(p + "input_layernorm.weight"),
                    PostAttentionNorm = Norm(p + "post_attention_layernorm.weight"),
                    PreFeedforwardNorm = Norm(p + "pre_feedforward_layernorm.weight"),
                    PostFeedforwardNorm = Norm(p + "post_feedforward_layernorm.weight"),
                    Sliding = config.LayerTypes[i] == Gemma2AttentionKind.Sliding,
                };
            }

            return new Gemma2Model(config, computeDtype, target, embed, head, Norm("model.norm.weight"), layers);
        }
        catch
        {
            foreach (IDisposable d in owned) d.Dispose();
            throw;
        }
    }

    static Tensor Keep(List<IDisposable> owned, Tensor t)
    {
        owned.Add(t);
        return t;
    }

    /// <summary>A model-owned copy (or a storage-sharing handle when nothing changes) outside any dispose scope.</summary>
    static Tensor Convert(Tensor source, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor result = source.detach().to(dtype, device).contiguous().detach();
        return result.DetachFromDisposeScope();
    }

    /// <summary>HF keeps the norm weight in the model dtype and scales by (1 + w.float()).</summary>
    static Tensor NormScale(Tensor source, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor result = source.detach().to(dtype, device).to(ScalarType.Float32).add(1.0);
        return result.DetachFromDisposeScope();
    }

    static void CheckWeights(Gemma2Config config, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        IReadOnlyDictionary<string, long[]> expected = ExpectedWeightShapes(config);
        var problems = new List<string>();
        foreach ((string name, long[] shape) in expected)
        {
            if (!weights.TryGetValue(name, out Tensor? t))
                problems.Add($"missing {name} (expected shape [{string.Join(", ", shape)}])");
            else if (!t.shape.SequenceEqual(shape))
                problems.Add($"{name} has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}]");
            else if (!t.is_floating_point())
                problems.Add($"{name} has dtype {t.dtype}, expected a floating-point type (F32, BF16, F16)");
        }

        foreach (string name in weights.Keys.Order(StringComparer.Ordinal))
        {
            if (expected.ContainsKey(name)) continue;
            // HF ignores both: the tied head is rebuilt from embed_tokens, and old files carry the rotary buffer.
            if (name == LmHeadKey && config.TieWordEmbeddings) continue;
            if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) continue;
            problems.Add($"unexpected tensor {name} (not part of a Gemma-2 model with {config.NumHiddenLayers} layers)");
        }

        if (problems.Count > 0)
            throw new InvalidInputException(
                $"{source}: the weights do not match its config ({problems.Count} problem(s)); check that config.json " +
                $"belongs to these safetensors files:\n  " + string.Join("\n  ", problems));
    }

    public ModelOutput Forward(Tensor inputIds, ResidHook? hook = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(inputIds);
        CheckInput(inputIds, hook);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = inputIds.to(Device);
        long batch = ids.shape[0], time = ids.shape[1];

        Tensor x = embedTokens.index_select(0, ids.reshape(-1)).reshape(batch, time, DModel);  // [B, T, hidden]
        // HF multiplies by sqrt(hidden_size) as a tensor of the compute dtype (rounded first in bfloat16).
        x = x * tensor(Math.Sqrt(DModel), dtype: ComputeDtype, device: Device);

        (Tensor cos, Tensor sin) = Rotary(time);  // [T, head_dim] each
        Tensor query = arange(time, device: Device).unsqueeze(1);  // [T, 1]
        Tensor key = arange(time, device: Device).unsqueeze(0);    // [1, T]
        Tensor fullBlocked = key > query;                          // [T, T], true where attention is not allowed
        Tensor slidingBlocked = fullBlocked.logical_or(query - key >= config.SlidingWindow);

        Tensor? captured = null;
        for (int i = 0; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            x = Block(layer, x, cos, sin, layer.Sliding ? slidingBlocked : fullBlocked);
            if (hook is null || hook.Layer != i) continue;

            if (hook.Replace is null)
            {
                captured = x;
            }
            else
            {
                captured = x.clone();  // the replacement may reuse or modify its argument
                x = Replacement(hook.Replace(x), batch, time);
            }

            if (hook.StopAfter) return new ModelOutput(null, captured.MoveToOuterDisposeScope());
        }

        Tensor logits = nn.functional.linear(RmsNorm(x, finalNorm), lmHead);  // [B, T, vocab]
        logits = SoftCap(logits, config.FinalLogitSoftcapping).to(ScalarType.Float32);
        return new ModelOutput(logits.MoveToOuterDisposeScope(), captured?.MoveToOuterDisposeScope());
    }

    void CheckInput(Tensor inputIds, ResidHook? hook)
    {
        if (inputIds.dim() != 2 || inputIds.dtype != ScalarType.Int64)
            throw new InvalidInputException(
                $"Gemma-2 input ids must be an int64 tensor [batch, time]; got {inputIds.dtype} [{string.Join(", ", inputIds.shape)}].");
        if (inputIds.shape[0] == 0 || inputIds.shape[1] == 0)
            throw new InvalidInputException("Gemma-2 input ids are empty; give at least one token per sequence.");
        long min, max;
        using (NewDisposeScope())
        {
            min = inputIds.min().item<long>();
            max = inputIds.max().item<long>();
        }

        if (min < 0 || max >= VocabSize)
            throw new InvalidInputException(
                $"Gemma-2 input ids range over [{min}, {max}] but the vocabulary has {VocabSize} entries; " +
                "check that the tokenizer belongs to this checkpoint.");
        if (hook is not null && (hook.Layer < 0 || hook.Layer >= Layers))
            throw new InvalidInputException(
                $"Hook layer {hook.Layer} does not exist: this Gemma-2 model has layers 0..{Layers - 1}.");
    }

    Tensor Replacement(Tensor replaced, long batch, long time)
    {
        if (!replaced.shape.SequenceEqual([batch, time, DModel]))
            throw new InvalidInputException(
                $"The residual replacement returned shape [{string.Join(", ", replaced.shape)}], " +
                $"expected [{batch}, {time}, {DModel}] like its input.");
        return replaced.to(ComputeDtype, Device);
    }

    /// <summary>One decoder layer: x + post_attn_norm(attn(input_norm(x))), then the same around the MLP.</summary>
    Tensor Block(Layer layer, Tensor x, Tensor cos, Tensor sin, Tensor blocked)
    {
        Tensor attention = Attention(layer, RmsNorm(x, layer.InputNorm), cos, sin, blocked);
        x = x + RmsNorm(attention, layer.PostAttentionNorm);
        Tensor h = RmsNorm(x, layer.PreFeedforwardNorm);
        Tensor mlp = nn.functional.linear(Gate(nn.functional.linear(h, layer.GateProj)) * nn.functional.linear(h, layer.UpProj),
            layer.DownProj);
        return x + RmsNorm(mlp, layer.PostFeedforwardNorm);
    }

    Tensor Attention(Layer layer, Tensor h, Tensor cos, Tensor sin, Tensor blocked)
    {
        long batch = h.shape[0], time = h.shape[1];
        int heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, headDim = config.HeadDim;

        Tensor q = nn.functional.linear(h, layer.QProj).view(batch, time, heads, headDim).transpose(1, 2);   // [B, heads, T, hd]
        Tensor k = nn.functional.linear(h, layer.KProj).view(batch, time, kvHeads, headDim).transpose(1, 2); // [B, kv, T, hd]
        Tensor v = nn.functional.linear(h, layer.VProj).view(batch, time, kvHeads, headDim).transpose(1, 2); // [B, kv, T, hd]
        q = ApplyRotary(q, cos, sin);
        k = ApplyRotary(k, cos, sin);
        if (config.KeyValueGroups > 1)
        {
            // Query head j reads key/value head j / groups, as HF's repeat_kv arranges them.
            k = k.repeat_interleave(config.KeyValueGroups, dim: 1);  // [B, heads, T, hd]
            v = v.repeat_interleave(config.KeyValueGroups, dim: 1);  // [B, heads, T, hd]
        }

        Tensor scores = q.matmul(k.transpose(2, 3)) * Math.Pow(config.QueryPreAttnScalar, -0.5);  // [B, heads, T, T]
        scores = SoftCap(scores, config.AttnLogitSoftcapping).masked_fill(blocked, double.NegativeInfinity);
        // HF upcasts the softmax to float32 and casts the weights back to the compute dtype.
        Tensor probs = scores.softmax(-1, ScalarType.Float32).to(ComputeDtype);
        Tensor attended = probs.matmul(v).transpose(1, 2).reshape(batch, time, heads * headDim);  // [B, T, heads * hd]
        return nn.functional.linear(attended, layer.OProj);  // [B, T, hidden]
    }

    /// <summary>cos and sin of position * inv_freq, computed in float32 as HF does, then cast to the compute dtype.</summary>
    (Tensor Cos, Tensor Sin) Rotary(long time)
    {
        int headDim = config.HeadDim;
        Tensor exponents = arange(0, headDim, 2, dtype: ScalarType.Int64, device: Device).to(ScalarType.Float32) / headDim;
        Tensor invFreq = tensor((float)config.RopeTheta, device: Device).pow(exponents).reciprocal();  // [hd / 2]
        Tensor positions = arange(time, dtype: ScalarType.Float32, device: Device);
        Tensor freqs = positions.unsqueeze(1) * invFreq.unsqueeze(0);  // [T, hd / 2]
        Tensor angles = cat([freqs, freqs], -1);                       // [T, hd]
        return (angles.cos().to(ComputeDtype), angles.sin().to(ComputeDtype));
    }

    /// <summary>x * cos + rotate_half(x) * sin with rotate_half(x) = [-x2, x1] (halves of head_dim).</summary>
    static Tensor ApplyRotary(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        return x * cos + cat([-x2, x1], -1) * sin;
    }

    Tensor RmsNorm(Tensor x, Tensor scale)
    {
        Tensor xf = x.to(ScalarType.Float32);
        Tensor normed = xf * (xf.pow(2).mean([-1], keepdim: true) + config.RmsNormEps).rsqrt();
        return (normed * scale).to(x.dtype);
    }

    Tensor Gate(Tensor x) => config.HiddenActivation switch
    {
        "gelu" => x.gelu(),
        // gelu_pytorch_tanh and gelu_new are the same tanh approximation.
        _ => x.gelu(TorchSharp.Modules.GELU.Approximate.tanh),
    };

    static Tensor SoftCap(Tensor x, double? cap) => cap is { } c ? (x / c).tanh() * c : x;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (Layer layer in layers) layer.Dispose();
        if (!ReferenceEquals(lmHead, embedTokens)) lmHead.Dispose();
        embedTokens.Dispose();
        finalNorm.Dispose();
    }
}
