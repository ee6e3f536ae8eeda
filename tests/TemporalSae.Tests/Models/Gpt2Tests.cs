// GPT-2: loading HF-layout checkpoints in every variant, saving, errors, initialisation and forward-pass invariants.
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models;

public class Gpt2Tests
{
    static Tensor Logits(ISubjectModel model, Tensor ids)
    {
        using var noGrad = no_grad();
        return model.Forward(ids).Logits!;
    }

    [Fact]
    public void SavedCheckpointLoadsBackWithIdenticalLogits()
    {
        using var dir = new TempFolder();
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 1);
        model.Save(dir.Path);
        using var loaded = SubjectModels.Load(dir.Path);
        Assert.Equal("gpt2", loaded.ModelType);
        Assert.Equal((32, 3, 50), (loaded.DModel, loaded.Layers, loaded.VocabSize));
        using var ids = TinyGpt2.Ids(3);
        TensorAssert.Equal(Logits(model, ids), Logits(loaded, ids));
        Assert.All(((Gpt2Model)loaded).parameters(), p => Assert.True(p.requires_grad));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 3)]
    [InlineData(false, 2)]
    public void LoadsWithOrWithoutPrefixSingleOrSharded(bool prefix, int shards)
    {
        using var dir = new TempFolder();
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 2);
        TinyGpt2.Write(dir.Path, model, prefix, shards: shards);
        using var loaded = Gpt2Model.Load(dir.Path);
        using var ids = TinyGpt2.Ids(4);
        TensorAssert.Equal(Logits(model, ids), Logits(loaded, ids));
    }

    [Fact]
    public void LoadsBf16AndF16StoredWeights()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 3);
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(p.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32));
        using var ids = TinyGpt2.Ids(5);
        var expected = Logits(model, ids);
        using (var dir = new TempFolder())
        {
            TinyGpt2.Write(dir.Path, model, storage: ScalarType.BFloat16);
            using var loaded = Gpt2Model.Load(dir.Path);
            TensorAssert.Equal(expected, Logits(loaded, ids), "BF16 storage");
        }
        using (var dir = new TempFolder())
        {
            TinyGpt2.Write(dir.Path, model, storage: ScalarType.Float16);
            using var loaded = Gpt2Model.Load(dir.Path);
            // f16 has more mantissa bits than bf16 but flushes the smallest weights (< 6e-5) to subnormals.
            TensorAssert.Close(expected, Logits(loaded, ids), 1e-5, "F16 storage");
        }
    }

    [Fact]
    public void Bfloat16ComputeStaysCloseToFloat32()
    {
        using var dir = new TempFolder();
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 4);
        model.Save(dir.Path);
        using var bf16 = SubjectModels.Load(dir.Path, ScalarType.BFloat16);
        using var ids = TinyGpt2.Ids(6);
        var expected = Logits(model, ids);
        var actual = Logits(bf16, ids);
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        // bf16 keeps 8 mantissa bits: relative error ~4e-3 per op; logits here have magnitude ~0.5.
        TensorAssert.Close(expected, actual, 0.05, "bf16 logits");
    }

    [Fact]
    public void HfExtrasAreAcceptedCausalMaskBuffersAndTiedLmHead()
    {
        using var dir = new TempFolder();
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 5);
        TinyGpt2.Write(dir.Path, model, prefix: true, edit: t =>
        {
            t["transformer.h.0.attn.bias"] = ones(1, 1, 16, 16).tril();
            t["transformer.h.1.attn.masked_bias"] = tensor(-1e4f);
            t["lm_head.weight"] = t["transformer.wte.weight"];
        });
        using var loaded = Gpt2Model.Load(dir.Path);
        using var ids = TinyGpt2.Ids(7);
        TensorAssert.Equal(Logits(model, ids), Logits(loaded, ids));
    }

    [Fact]
    public void MismatchedCheckpointListsEveryProblem()
    {
        using var dir = new TempFolder();
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 6);
        TinyGpt2.Write(dir.Path, model, prefix: false, edit: t =>
        {
            t.Remove("h.1.mlp.c_fc.bias");
            t.Remove("ln_f.weight");
            t["h.0.attn.c_attn.weight"] = zeros(96, 32);
            t["h.9.extra"] = zeros(1);
        });
        var e = Assert.Throws<InvalidInputException>(() => Gpt2Model.Load(dir.Path).Dispose());
        Assert.Contains("missing 'h.1.mlp.c_fc.bias'", e.Message);
        Assert.Contains("missing 'ln_f.weight'", e.Message);
        Assert.Contains("'h.0.attn.c_attn.weight' has shape [96, 32], expected [32, 96] (Conv1D layout [in, out])", e.Message);
        Assert.Contains("unexpected tensor 'h.9.extra'", e.Message);
    }

    [Fact]
    public void UnsupportedModelTypeListsSupportedOnes()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"), "{\"model_type\": \"llama\"}");
        var e = Assert.Throws<InvalidInputException>(() => SubjectModels.Load(dir.Path).Dispose());
        Assert.Contains("\"llama\" is not supported", e.Message);
        Assert.Contains("gpt2", e.Message);
    }

    [Fact]
    public void BadConfigListsEveryProblem()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"),
            "{\"model_type\": \"gpt2\", \"n_embd\": 30, \"n_head\": 4, \"n_layer\": 0, \"vocab_size\": 10, \"n_positions\": 8, \"activation_function\": \"relu\"}");
        using var m = new Gpt2Model(TinyGpt2.Config(), 0);
        m.Save(dir.File("weights"));
        File.Copy(dir.File("weights/model.safetensors"), dir.File("model.safetensors"));
        var e = Assert.Throws<InvalidInputException>(() => SubjectModels.Load(dir.Path).Dispose());
        Assert.Contains("\"n_layer\" must be a positive integer", e.Message);
        Assert.Contains("divisible", e.Message);
        Assert.Contains("\"relu\" is not supported", e.Message);
    }

    [Fact]
    public void InitialisationFollowsGpt2Scales()
    {
        var config = TinyGpt2.Config() with { NEmbd = 128, NLayer = 8, VocabSize = 2000 };
        using var model = new Gpt2Model(config, seed: 7);
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.InRange(p["wte.weight"].std().item<float>(), 0.019, 0.021);
        Assert.InRange(p["h.3.mlp.c_fc.weight"].std().item<float>(), 0.019, 0.021);
        double residual = 0.02 / Math.Sqrt(16);
        Assert.InRange(p["h.3.mlp.c_proj.weight"].std().item<float>(), 0.95 * residual, 1.05 * residual);
        Assert.InRange(p["h.3.attn.c_proj.weight"].std().item<float>(), 0.9 * residual, 1.1 * residual);
        Assert.Equal(0, p["h.3.attn.c_attn.bias"].abs().max().item<float>());
        Assert.Equal(1, p["ln_f.weight"].min().item<float>());
        using var again = new Gpt2Model(config, seed: 7);
        TensorAssert.Equal(p["h.5.attn.c_attn.weight"], again.named_parameters().First(x => x.name == "h.5.attn.c_attn.weight").parameter);
    }

    [Fact]
    public void LogitsAreFinalHiddenStatesTimesTiedEmbedding()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 8);
        using var ids = TinyGpt2.Ids(9);
        using var noGrad = no_grad();
        var logits = model.Forward(ids).Logits!;
        var resid = model.Forward(ids, new ResidHook(model.Layers - 1, StopAfter: true)).ResidPost!;
        var hidden = model.FinalNorm(resid); // [B, T, D]
        var manual = einsum("btd,vd->btv", hidden, model.TiedEmbedding);
        TensorAssert.Close(manual, logits, 1e-5, "logits vs hidden @ wte^T");
    }

    [Fact]
    public void ChangingTokenTLeavesEarlierOutputsUnchanged()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 10);
        using var ids = TinyGpt2.Ids(11, batch: 1);
        using var noGrad = no_grad();
        const int t = 7;
        var changed = ids.clone();
        changed[0, t] = (ids[0, t] + 1) % 50;
        var a = model.Forward(ids, new ResidHook(1)).ResidPost!;
        var b = model.Forward(changed, new ResidHook(1)).ResidPost!;
        var la = model.Forward(ids).Logits!;
        var lb = model.Forward(changed).Logits!;
        TensorAssert.Close(la[.., ..t], lb[.., ..t], 1e-6, "logits before t");
        TensorAssert.Close(a[.., ..t], b[.., ..t], 1e-6, "resid before t");
        Assert.True(TensorAssert.MaxDiff(la[.., t..], lb[.., t..]) > 1e-4, "changing token t must change logits at t");
    }

    [Fact]
    public void HooksCaptureSpliceAndStop()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 12);
        using var ids = TinyGpt2.Ids(13);
        using var noGrad = no_grad();
        var clean = model.Forward(ids);
        Assert.Null(clean.ResidPost);
        var captured = model.Forward(ids, new ResidHook(1));
        TensorAssert.Equal(clean.Logits!, captured.Logits!, "capture must not change logits");
        var identity = model.Forward(ids, new ResidHook(1, Replace: x => x));
        TensorAssert.Equal(clean.Logits!, identity.Logits!, "identity splice");
        var stopped = model.Forward(ids, new ResidHook(1, StopAfter: true));
        Assert.Null(stopped.Logits);
        TensorAssert.Equal(captured.ResidPost!, stopped.ResidPost!, "StopAfter resid");
        Assert.Equal(new long[] { 2, 12, 32 }, stopped.ResidPost!.shape);

        var zeroed = model.Forward(ids, new ResidHook(1, Replace: x => zeros_like(x)));
        TensorAssert.Equal(captured.ResidPost!, zeroed.ResidPost!, "ResidPost is the activation before replacement");
        Assert.True(TensorAssert.MaxDiff(clean.Logits!, zeroed.Logits!) > 1e-3, "zero splice must change logits");
        // A zeroed stream after block 1 makes the output depend on positions only through blocks 2.. and wpe is gone:
        // every sequence gives the same logits.
        TensorAssert.Close(zeroed.Logits![0], zeroed.Logits![1], 1e-5, "zero splice drops token identity");
    }

    [Fact]
    public void BadInputsAreRejected()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 14);
        Assert.Contains("blocks 0..2", Assert.Throws<InvalidInputException>(() => model.Forward(TinyGpt2.Ids(1), new ResidHook(3))).Message);
        Assert.Contains("0..49", Assert.Throws<InvalidInputException>(() => model.Forward(full(1, 3, 50L))).Message);
        Assert.Contains("1..16", Assert.Throws<InvalidInputException>(() => model.Forward(zeros(1, 17, dtype: ScalarType.Int64))).Message);
    }

    [Fact]
    public void GradientsReachEveryParameter()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 15);
        using var ids = TinyGpt2.Ids(16);
        var logits = model.Forward(ids).Logits!;
        var loss = nn.functional.cross_entropy(logits.reshape(-1, 50), ids.reshape(-1));
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"no gradient for {name}");
    }
}
