// The Temporal SAE against a naive reference, its causal and boundary guarantees, and gradient checkpointing.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;
using TemporalSae.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;
using static TemporalSae.Tests.Saes.Temporal.TemporalTestData;

namespace TemporalSae.Tests.Saes.Temporal;

public class TemporalSparseAutoencoderTests
{
    const int DIn = 8, DSae = 24;
    static readonly StepCoefficients Coefficients = StepCoefficients.Of(("sparsity", 0.7), (AuxKLoss.Term, 0.25));

    static TemporalSparseAutoencoder Build(string boundary, int buffer = 4, bool checkpointing = false,
        string activation = "relu", IReadOnlyList<ConsistencyLevel>? levels = null, long seed = 3, bool excludeSpecial = true)
    {
        var sae = TemporalSparseAutoencoder.Create(Config(DSae, buffer, boundary, checkpointing, activation, 5, levels, excludeSpecial), DIn, seed);
        Perturb(sae, 11);
        return sae;
    }

    /// <summary>Bitwise equality of two tensors of the same shape.</summary>
    static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Initialisation_is_a_plain_sae_with_nonzero_dictionary()
    {
        var sae = TemporalSparseAutoencoder.Create(Config(DSae, 4, "document"), DIn, seed: 5);
        var batch = Batch(2, 12, DIn, seed: 1);
        using var noGrad = torch.no_grad();
        var plain = torch.nn.functional.relu((batch.X - sae.b_dec).matmul(sae.W_enc) + sae.b_enc);
        Assert.True(Identical(plain, sae.Encode(batch)));
        TensorAssert.Close(torch.full(DSae, 0.1f), sae.W_dec.norm(1), 1e-6, "decoder row norms");
        Assert.True(Identical(sae.W_enc, sae.W_dec.t()));
        Assert.Equal(new float[] { 1, 0, 0, 0 }, sae.C.select(1, 0).data<float>().ToArray());
        Assert.Equal(["W_enc", "W_dec", "b_enc", "b_dec", "c_temporal"], sae.named_parameters().Select(p => p.name).ToArray());
    }

    [Theory]
    [InlineData("none", "relu")]
    [InlineData("document", "relu")]
    [InlineData("sentence", "relu")]
    [InlineData("sentence", "topk")]
    public void Features_match_the_naive_convolution(string boundary, string activation)
    {
        var sae = Build(boundary, activation: activation);
        var batch = Batch(3, 14, DIn, seed: 2);
        using var noGrad = torch.no_grad();
        TensorAssert.Close(ReferenceFeatures(sae, batch, boundary, activation == "topk" ? 5 : 0), sae.Encode(batch), 1e-5, "features");
    }

    [Theory]
    [InlineData("none", false)]
    [InlineData("sentence", false)]
    [InlineData("document", true)]
    [InlineData("sentence", true)]
    public void Loss_and_gradients_match_the_naive_reference(string boundary, bool checkpointing)
    {
        IReadOnlyList<ConsistencyLevel> levels =
        [
            new() { Fraction = 0.25, Scales = [], Weight = 1 },
            new() { Fraction = 0.25, Scales = [1, 2], Weight = 0.3 },
            new() { Fraction = 0.5, Scales = [1, 2, 4], Weight = 0.7 },
        ];
        var sae = Build(boundary, checkpointing: checkpointing, levels: levels);
        var batch = Batch(3, 14, DIn, seed: 4);

        var expected = ReferenceLoss(sae, batch, boundary, Coefficients);
        var expectedGrads = torch.autograd.grad([expected], sae.parameters().ToArray());
        var forward = sae.Forward(new SaeStep(batch, Coefficients));
        var actualGrads = torch.autograd.grad([forward.Loss], sae.parameters().ToArray());

        TensorAssert.Close(expected, forward.Loss, 1e-4, "loss");
        foreach (var (name, e, a) in sae.named_parameters().Select(p => p.name).Zip(expectedGrads, actualGrads))
            TensorAssert.Close(e, a, 1e-4, $"gradient of {name}");
        Assert.Equal(["mse", "sparsity", "temporal", "temporal_level0", "temporal_level1", "temporal_level2"], forward.Terms.Keys.ToArray());
        Assert.Equal(0f, forward.Terms["temporal_level0"].item<float>());
        Assert.True(forward.Terms["temporal_level2"].item<float>() > 0);
    }

    [Theory]
    [InlineData("none", false)]
    [InlineData("sentence", true)]
    public void TopK_aux_k_on_the_convolved_pre_activations_matches_the_naive_reference(string boundary, bool checkpointing)
    {
        var sae = Build(boundary, checkpointing: checkpointing, activation: "topk");
        var batch = Batch(3, 14, DIn, seed: 4);
        using var dead = torch.zeros(DSae, ScalarType.Bool);
        dead.narrow(0, 3, 10).fill_(true);
        var coefficients = StepCoefficients.Of(("sparsity", 0.7), (AuxKLoss.Term, 0.25));

        var h = ReferencePreActivations(sae, batch, boundary);
        var f = ReferenceFeatures(sae, batch, boundary, topK: 5);
        var xHat = f.matmul(sae.W_dec) + sae.b_dec;
        var keep = batch.Special!.logical_not();
        var expectedAux = AuxKLoss.Compute(h, batch.X - xHat, sae.W_dec, dead, keep);
        var expected = ReferenceLoss(sae, batch, boundary, coefficients, topK: 5) + 0.25 * expectedAux;
        var expectedGrads = torch.autograd.grad([expected], sae.parameters().ToArray());
        var forward = sae.Forward(new SaeStep(batch, coefficients, dead));
        var actualGrads = torch.autograd.grad([forward.Loss], sae.parameters().ToArray());

        Assert.True(expectedAux.item<float>() > 0);
        TensorAssert.Close(expectedAux, forward.Terms[AuxKLoss.Term], 1e-5, "aux_k");
        TensorAssert.Close(expected, forward.Loss, 1e-4, "loss");
        foreach (var (name, e, a) in sae.named_parameters().Select(p => p.name).Zip(expectedGrads, actualGrads))
            TensorAssert.Close(e, a, 1e-4, $"gradient of {name}");
    }

    [Theory]
    [InlineData("none", "relu")]
    [InlineData("sentence", "relu")]
    [InlineData("document", "topk")]
    public void Checkpointing_gives_the_same_loss_and_gradients(string boundary, string activation)
    {
        var plain = Build(boundary, activation: activation);
        var checkpointed = Build(boundary, checkpointing: true, activation: activation);
        var batch = Batch(4, 16, DIn, seed: 6);
        var x = batch.X.requires_grad_(true);
        using var dead = torch.zeros(DSae, ScalarType.Bool);
        dead.narrow(0, 0, 6).fill_(true);    // TopK's aux-k takes part too

        var a = plain.Forward(new SaeStep(batch, Coefficients, dead));
        var gradsA = torch.autograd.grad([a.Loss], [.. plain.parameters(), x]);
        var b = checkpointed.Forward(new SaeStep(batch, Coefficients, dead));
        var gradsB = torch.autograd.grad([b.Loss], [.. checkpointed.parameters(), x]);

        TensorAssert.Close(a.Loss, b.Loss, 1e-5, "loss");
        for (int i = 0; i < gradsA.Count; i++) TensorAssert.Close(gradsA[i], gradsB[i], 1e-5, $"gradient {i}");
        foreach (var key in a.Terms.Keys) TensorAssert.Close(a.Terms[key], b.Terms[key], 1e-5, key);
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("none", false)]
    [InlineData("document", true)]
    [InlineData("sentence", true)]
    public void Streaming_encoder_matches_the_batched_form(string boundary, bool excludeSpecial)
    {
        var sae = Build(boundary, excludeSpecial: excludeSpecial);
        const int b = 3, t = 20;
        var batch = Batch(b, t, DIn, seed: 8);
        using var noGrad = torch.no_grad();
        var batched = sae.Encode(batch);                           // [B, T, d_sae]
        using var streaming = new TemporalStreamingEncoder(sae, b);
        var docs = batch.DocumentIds!.data<long>().ToArray();
        var sentences = batch.SentenceIds!.data<long>().ToArray();
        var special = batch.Special!.data<bool>().ToArray();
        for (int col = 0; col < t; col++)
        {
            var ids = Enumerable.Range(0, b).Select(row => row * t + col).ToArray();
            var f = streaming.Step(batch.X.select(1, col), ids.Select(i => docs[i]).ToArray(), ids.Select(i => sentences[i]).ToArray(),
                ids.Select(i => special[i]).ToArray());
            TensorAssert.Close(batched.select(1, col), f, 1e-6, $"features at t = {col}");
        }
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("document", true)]
    [InlineData("none", false)]
    [InlineData("document", false)]
    public void A_special_token_reaches_later_codes_only_when_special_tokens_are_kept_in_the_buffer(string boundary, bool excludeSpecial)
    {
        var sae = Build(boundary, excludeSpecial: excludeSpecial);
        var batch = Batch(2, 12, DIn, seed: 5);
        Assert.True(batch.Special![1, 0].item<bool>(), "every window here opens with a BOS");
        using var noGrad = torch.no_grad();
        var before = sae.Encode(batch);
        var x = batch.X.clone();
        x[1, 0] = x[1, 0] + torch.randn(DIn, generator: new Generator(12)) * 3;
        var after = sae.Encode(batch with { X = x });

        Assert.False(Identical(before[1, 0], after[1, 0]), "the BOS's own code follows its activation");
        // Every document here has at least 3 tokens, so positions 1 and 2 share the BOS's segment and buffer.
        var later = after[1].narrow(0, 1, 11);
        if (excludeSpecial) Assert.True(Identical(before[1].narrow(0, 1, 11), later), "later positions changed with the BOS excluded");
        else Assert.False(Identical(before[1].narrow(0, 1, 3), after[1].narrow(0, 1, 3)), "the BOS should reach positions 1..K-1");
        Assert.True(Identical(before[0], after[0]), "the other window is untouched");
    }

    [Theory]
    [InlineData("document")]
    [InlineData("sentence")]
    public void First_token_after_a_boundary_ignores_everything_before_it(string boundary)
    {
        var sae = Build(boundary);
        var batch = Batch(2, 16, DIn, seed: 9);
        int row = 1;
        int start = Enumerable.Range(8, 8).First(col => !SameSegment(batch, boundary, row, col, 1));
        using var noGrad = torch.no_grad();
        var reference = sae.Encode(batch);
        for (int trial = 0; trial < 5; trial++)
        {
            using var generator = new torch.Generator((ulong)(100 + trial));
            var x = batch.X.clone();
            x[row].narrow(0, 0, start).copy_(torch.randn([start, DIn], generator: generator) * (1 + 10 * trial));
            var ids = batch.DocumentIds!.clone();
            ids[row].narrow(0, 0, start).copy_(torch.randint(0, 1000, [start], generator: generator));
            if (boundary == "document") ids[row, start - 1] = ids[row, start] - 1;
            var features = sae.Encode(batch with { X = x, DocumentIds = boundary == "document" ? ids : batch.DocumentIds });
            Assert.True(Identical(reference[row, start], features[row, start]), $"trial {trial}: features at the boundary changed");
        }
    }

    [Fact]
    public void Encode_is_causal()
    {
        var sae = Build("none");
        var batch = Batch(2, 16, DIn, seed: 10);
        using var noGrad = torch.no_grad();
        var reference = sae.Encode(batch);
        for (int t = 0; t < 16; t += 5)
        {
            var x = batch.X.clone();
            x.narrow(1, t + 1, 15 - t).add_(torch.randn([2, 15 - t, DIn]) * 3);
            var features = sae.Encode(batch with { X = x });
            Assert.True(Identical(reference.narrow(1, 0, t + 1), features.narrow(1, 0, t + 1)), $"features up to t = {t} saw the future");
            if (t < 15) Assert.False(Identical(reference.narrow(1, t + 1, 1), features.narrow(1, t + 1, 1)));
        }
    }

    [Fact]
    public void Buffer_reaches_exactly_k_minus_one_steps_back()
    {
        var sae = Build("none", buffer: 3);
        var batch = Batch(1, 10, DIn, seed: 12);
        using var noGrad = torch.no_grad();
        var reference = sae.Encode(batch);
        var x = batch.X.clone();
        x[0, 4].add_(5);
        var features = sae.Encode(batch with { X = x });
        bool[] changed = Enumerable.Range(0, 10).Select(t => !Identical(reference[0, t], features[0, t])).ToArray();
        Assert.Equal(new[] { false, false, false, false, true, true, true, false, false, false }, changed);
    }

    [Fact]
    public void Bad_configuration_and_batches_are_refused_with_the_key()
    {
        var levels = new ConsistencyLevel[] { new() { Fraction = 0.5 }, new() { Fraction = 0.3 } };
        var at = new ManifestLocations(new SourceLocation("run.yaml", 1, 1));
        var e = Assert.Throws<InvalidInputException>(() =>
            SaeRegistry.Default[TemporalSparseAutoencoder.RegistryKey].Validate(new ExperimentConfig { Sae = Config(DSae, 4, "none", levels: levels) }, at));
        Assert.Contains("sae.temporal.levels", e.Message);
        var sae = Build("document");
        var tokens = new ActivationBatch(torch.randn(5, DIn));
        Assert.Contains("sequence batch", Assert.Throws<InvalidInputException>(() => sae.Encode(tokens)).Message);
        var noIds = new ActivationBatch(torch.randn(2, 5, DIn));
        Assert.Contains("DocumentIds", Assert.Throws<InvalidInputException>(() => sae.Encode(noIds)).Message);
    }
}
