// GPT-2 forward pass; matches Hugging Face's modeling_gpt2.py key names and Conv1D weight layout (weight [in, out]),
// with the unembedding tied to wte as in GPT2LMHeadModel. Initialisation follows HF / nanoGPT: N(0, 0.02) weights,
// residual output projections N(0, 0.02 / sqrt(2 * n_layer)), zero biases, unit LayerNorm. No dropout: the model is
// studied, or trained here on short budgets where dropout does not pay for itself.
using System.Text.Json;
using TemporalSae.Infrastructure;
using TemporalSae.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Models;

public sealed class Gpt2Model : nn.Module<Tensor, Tensor>, ISubjectModel
{
    // Field names are HF's submodule names, so named_parameters() yields HF keys (h.0.attn.c_attn.weight, ...).
#pragma warning disable IDE1006
    readonly Embedding wte;
    readonly Embedding wpe;
    readonly ModuleList<Gpt2Block> h;
    readonly LayerNorm ln_f;
#pragma warning restore IDE1006

    public Gpt2Config Config { get; }
    public ScalarType Dtype { get; private set; } = ScalarType.Float32;

    public string ModelType => "gpt2";
    public int DModel => Config.NEmbd;
    public int Layers => Config.NLayer;
    public int VocabSize => Config.VocabSize;

    /// <summary>The tied embedding [vocab, d_model]: token embedding and unembedding.</summary>
    public Tensor TiedEmbedding => wte.weight!;

    /// <summary>A randomly initialised GPT-2 (HF / nanoGPT init), float32, deterministic for a seed.</summary>
    public Gpt2Model(Gpt2Config config, long seed) : base("gpt2")
    {
        Config = config;
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.NPositions, config.NEmbd);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.NLayer).Select(_ => new Gpt2Block(config)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        RegisterComponents();
        Initialise(seed);
    }

    void Initialise(long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        using var noGrad = no_grad();
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.NLayer);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("ln_1.weight") || name.EndsWith("ln_2.weight") || name == "ln_f.weight") p.fill_(1.0);
            else if (name.EndsWith(".bias")) p.zero_();
            else if (name.EndsWith("c_proj.weight")) p.normal_(0.0, residualStd, generator);
            else p.normal_(0.0, 0.02, generator);
        }
    }

    /// <summary>Converts every parameter to the compute dtype (float32 or bfloat16).</summary>
    public Gpt2Model ToDtype(ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new InvalidInputException($"GPT-2 computes in float32 or bfloat16, not {dtype}");
        this.to(dtype);
        Dtype = dtype;
        return this;
    }

    /// <summary>Logits [B, T, vocab] for token ids [B, T].</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds).Logits!;

    public ModelOutput Forward(Tensor inputIds, ResidHook? hook = null)
    {
        CheckInput(inputIds, hook);
        using var scope = NewDisposeScope();
        long t = inputIds.shape[1];
        using var positions = arange(t, ScalarType.Int64, inputIds.device);
        var x = wte.forward(inputIds) + wpe.forward(positions); // [B, T, D]
        Tensor? captured = null;
        for (int layer = 0; layer < Config.NLayer; layer++)
        {
            x = h[layer].forward(x);
            if (hook is null || hook.Layer != layer) continue;
            captured = x;
            if (hook.Replace is { } replace)
            {
                x = replace(x);
                if (!x.shape.SequenceEqual(captured.shape))
                    throw new InvalidInputException(
                        $"the replacement at blocks.{layer}.hook_resid_post returned shape [{string.Join(", ", x.shape)}], expected [{string.Join(", ", captured.shape)}]");
            }
            if (hook.StopAfter) return new ModelOutput(null, captured.MoveToOuterDisposeScope());
        }
        var logits = Unembed(ln_f.forward(x)); // [B, T, vocab]
        return new ModelOutput(logits.MoveToOuterDisposeScope(), captured?.MoveToOuterDisposeScope());
    }

    /// <summary>The final LayerNorm applied to a residual stream [.., D].</summary>
    public Tensor FinalNorm(Tensor resid) => ln_f.forward(resid);

    /// <summary>Tied unembedding: hidden [.., D] @ wte^T -> logits [.., vocab].</summary>
    public Tensor Unembed(Tensor hidden) => matmul(hidden, wte.weight!.t());

    void CheckInput(Tensor inputIds, ResidHook? hook)
    {
        if (inputIds.dim() != 2 || inputIds.dtype != ScalarType.Int64)
            throw new InvalidInputException($"GPT-2 input must be int64 token ids [B, T], got {inputIds.dtype} [{string.Join(", ", inputIds.shape)}]");
        if (inputIds.shape[1] < 1 || inputIds.shape[1] > Config.NPositions)
            throw new InvalidInputException($"GPT-2 input has {inputIds.shape[1]} positions; this model takes 1..{Config.NPositions} (n_positions)");
        if (inputIds.numel() > 0)
        {
            long min = inputIds.min().item<long>(), max = inputIds.max().item<long>();
            if (min < 0 || max >= Config.VocabSize)
                throw new InvalidInputException($"token ids must lie in 0..{Config.VocabSize - 1} (vocab_size); found {min}..{max}");
        }
        if (hook is not null && (hook.Layer < 0 || hook.Layer >= Config.NLayer))
            throw new InvalidInputException($"hook blocks.{hook.Layer}.hook_resid_post does not exist; this model has blocks 0..{Config.NLayer - 1}");
    }

    /// <summary>Parameter names in HF layout, without the "transformer." prefix, with their expected shapes.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> ExpectedTensors() =>
        named_parameters().Select(p => (p.name, p.parameter.shape)).ToArray();

    /// <summary>Loads a Hugging Face GPT-2 checkpoint folder (config.json + safetensors) in the given compute dtype.</summary>
    public static Gpt2Model Load(string folder, ScalarType dtype = ScalarType.Float32)
    {
        using var config = SubjectModels.ReadConfig(folder);
        using var weights = SafetensorsCheckpoint.Open(folder);
        return Load(folder, config.RootElement, weights, dtype);
    }

    public static Gpt2Model Load(string folder, JsonElement configJson, SafetensorsCheckpoint weights, ScalarType dtype)
    {
        var config = Gpt2Config.FromJson(configJson, Path.Combine(folder, SubjectModels.ConfigFileName));
        var model = new Gpt2Model(config, seed: 0);
        try
        {
            model.LoadWeights(weights);
            model.ToDtype(dtype);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    void LoadWeights(SafetensorsCheckpoint weights)
    {
        const string prefix = "transformer.";
        bool prefixed = weights.Names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal));
        var problems = new List<string>();
        var used = new HashSet<string>();
        var parameters = named_parameters().ToArray();
        foreach (var (name, p) in parameters)
        {
            string key = prefixed ? prefix + name : name;
            if (!weights.Contains(key))
            {
                problems.Add($"missing '{key}' [{string.Join(", ", p.shape)}]");
                continue;
            }
            used.Add(key);
            var entry = weights.Entry(key);
            if (!entry.Shape.SequenceEqual(p.shape))
                problems.Add($"'{key}' has shape [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", p.shape)}]" +
                             (name.EndsWith("c_attn.weight") || name.EndsWith("c_fc.weight") || name.EndsWith("c_proj.weight") ? " (Conv1D layout [in, out])" : ""));
        }
        foreach (var key in weights.Names)
        {
            if (used.Contains(key) || IsIgnorable(key, prefixed ? prefix : "")) continue;
            if (key == "lm_head.weight")
            {
                var shape = weights.Entry(key).Shape;
                if (shape.Length != 2 || shape[0] != Config.VocabSize || shape[1] != Config.NEmbd)
                    problems.Add($"'lm_head.weight' has shape [{string.Join(", ", shape)}], expected [{Config.VocabSize}, {Config.NEmbd}] (tied to wte)");
                continue;
            }
            problems.Add($"unexpected tensor '{key}'");
        }
        if (problems.Count > 0)
            throw new InvalidInputException($"GPT-2 checkpoint '{weights.Folder}' does not match its config.json: {string.Join("; ", problems)}");

        using var noGrad = no_grad();
        foreach (var (name, p) in parameters)
        {
            using var loaded = weights.Load(prefixed ? prefix + name : name, ScalarType.Float32);
            p.copy_(loaded);
        }
    }

    // The causal-mask buffers older transformers versions saved with the weights; they hold no learned values.
    static bool IsIgnorable(string key, string prefix) =>
        key.StartsWith(prefix + "h.", StringComparison.Ordinal) && (key.EndsWith(".attn.bias") || key.EndsWith(".attn.masked_bias"));

    /// <summary>
    /// Writes an HF-layout checkpoint folder: config.json and model.safetensors with GPT2LMHeadModel's keys
    /// ("transformer." prefix, lm_head tied and therefore not stored), in the parameters' dtype.
    /// </summary>
    public void Save(string folder, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(folder);
        var tensors = named_parameters().ToDictionary(p => "transformer." + p.name, p => (Tensor)p.parameter);
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        if (metadata is not null)
            foreach (var (k, v) in metadata) meta[k] = v;
        SafetensorsWriter.Write(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName), tensors, meta);
        AtomicFile.WriteAllText(Path.Combine(folder, SubjectModels.ConfigFileName), Config.ToJson());
    }
}

/// <summary>One pre-LayerNorm transformer block (HF GPT2Block): x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
sealed class Gpt2Block : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    readonly LayerNorm ln_1;
    readonly Gpt2Attention attn;
    readonly LayerNorm ln_2;
    readonly Gpt2Mlp mlp;
#pragma warning restore IDE1006

    public Gpt2Block(Gpt2Config config) : base("block")
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        attn = new Gpt2Attention(config);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(ln_1.forward(x));
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Causal multi-head self-attention with a fused qkv projection (HF GPT2Attention, c_attn / c_proj).</summary>
sealed class Gpt2Attention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    readonly Conv1D c_attn;
    readonly Conv1D c_proj;
#pragma warning restore IDE1006
    readonly int heads;
    readonly int headDim;

    public Gpt2Attention(Gpt2Config config) : base("attn")
    {
        c_attn = new Conv1D(config.NEmbd, 3 * config.NEmbd);
        c_proj = new Conv1D(config.NEmbd, config.NEmbd);
        heads = config.NHead;
        headDim = config.HeadDim;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        var qkv = c_attn.forward(x).view(b, t, 3, heads, headDim); // [B, T, 3, H, hd]
        var q = qkv.select(2, 0).transpose(1, 2); // [B, H, T, hd]
        var k = qkv.select(2, 1).transpose(1, 2); // [B, H, T, hd]
        var v = qkv.select(2, 2).transpose(1, 2); // [B, H, T, hd]
        // Scaled by 1/sqrt(hd) inside, as GPT-2's scale_attn_weights; TorchSharp spells the flag is_casual.
        var y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true); // [B, H, T, hd]
        y = y.transpose(1, 2).reshape(b, t, d); // [B, T, D]
        return c_proj.forward(y).MoveToOuterDisposeScope();
    }
}

/// <summary>The feed-forward part (HF GPT2MLP): c_proj(gelu(c_fc(x))).</summary>
sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    readonly Conv1D c_fc;
    readonly Conv1D c_proj;
#pragma warning restore IDE1006
    readonly bool exactGelu;

    public Gpt2Mlp(Gpt2Config config) : base("mlp")
    {
        c_fc = new Conv1D(config.NEmbd, config.Inner);
        c_proj = new Conv1D(config.Inner, config.NEmbd);
        exactGelu = config.ActivationFunction == "gelu";
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = c_fc.forward(x); // [B, T, inner]
        hidden = exactGelu
            ? nn.functional.gelu(hidden)
            : nn.functional.gelu(hidden, GELU.Approximate.tanh);
        return c_proj.forward(hidden).MoveToOuterDisposeScope();
    }
}

/// <summary>HF's Conv1D: a linear layer whose weight is stored [in, out] (transposed from nn.Linear).</summary>
sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;

    public Conv1D(int inFeatures, int outFeatures) : base("conv1d")
    {
        weight = new Parameter(empty(inFeatures, outFeatures)); // [in, out]
        bias = new Parameter(zeros(outFeatures)); // [out]
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        var flat = x.reshape(-1, shape[^1]); // [N, in]
        var y = addmm(bias, flat, weight, 1.0f, 1.0f); // [N, out]
        shape[^1] = weight.shape[1];
        return y.view(shape).MoveToOuterDisposeScope();
    }
}
