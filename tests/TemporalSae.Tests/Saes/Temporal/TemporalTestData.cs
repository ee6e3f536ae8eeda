// Small random sequence batches with document / sentence segments and special tokens for the temporal SAE tests,
// and an independent, deliberately naive implementation of the Temporal SAE's features and loss to compare against.
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Saes.Temporal;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Saes.Temporal;

internal static class TemporalTestData
{
    /// <summary>
    /// X [B, T, d_in] with documents of random length (3..9 tokens) split into sentences (2..4 tokens); the first token
    /// of every document is special (a BOS), as in the data pipeline's windows.
    /// </summary>
    public static ActivationBatch Batch(int b, int t, int dIn, int seed, bool specials = true)
    {
        var random = new Random(seed);
        var docs = new long[b * t];
        var sentences = new long[b * t];
        var special = new bool[b * t];
        long doc = 0, sentence = 0;
        for (int row = 0; row < b; row++)
        {
            int docLeft = 0, sentenceLeft = 0;
            for (int col = 0; col < t; col++)
            {
                int i = row * t + col;
                if (docLeft == 0)
                {
                    doc++;
                    docLeft = random.Next(3, 10);
                    sentenceLeft = 0;
                    special[i] = specials;
                }
                if (sentenceLeft == 0)
                {
                    sentence++;
                    sentenceLeft = random.Next(2, 5);
                }
                docs[i] = doc;
                sentences[i] = sentence;
                docLeft--;
                sentenceLeft--;
            }
        }
        using var generator = new torch.Generator((ulong)seed);
        var x = torch.randn([b, t, dIn], generator: generator);
        return new ActivationBatch(x, torch.tensor(docs, [b, t]), torch.tensor(sentences, [b, t]), torch.tensor(special, [b, t]));
    }

    public static SaeConfig Config(int dSae, int buffer, string boundary, bool checkpointing = false,
        string activation = "relu", int k = 4, IReadOnlyList<ConsistencyLevel>? levels = null, bool excludeSpecial = true) => new()
        {
            Architecture = TemporalSparseAutoencoder.RegistryKey,
            DSae = dSae,
            K = k,
            Temporal = new TemporalConfig
            {
                Buffer = buffer,
                Boundary = boundary,
                GradientCheckpointing = checkpointing,
                ExcludeSpecialTokens = excludeSpecial,
                Activation = activation,
                Levels = levels ?? [new ConsistencyLevel { Fraction = 1, Scales = [1], Weight = 0.5 }],
            },
        };

    /// <summary>Gives c and the biases non-trivial values so that every lag of the buffer matters.</summary>
    public static void Perturb(TemporalSparseAutoencoder sae, int seed)
    {
        using var noGrad = torch.no_grad();
        using var generator = new torch.Generator((ulong)seed);
        sae.C.copy_(torch.randn(sae.C.shape, generator: generator) * 0.5 + 0.3);
        sae.b_enc.copy_(torch.randn(sae.b_enc.shape, generator: generator) * 0.05);
        sae.b_dec.copy_(torch.randn(sae.b_dec.shape, generator: generator) * 0.05);
    }

    /// <summary>True when t-j (j &gt;= 0) is inside the sequence and, per the boundary mode, in t's segment.</summary>
    public static bool SameSegment(ActivationBatch batch, string boundary, int b, int t, int j)
    {
        if (t - j < 0) return false;
        for (int u = t - j + 1; u <= t; u++)
        {
            if (boundary != "none" && batch.DocumentIds![b, u].item<long>() != batch.DocumentIds[b, u - 1].item<long>()) return false;
            if (boundary == "sentence" && batch.SentenceIds![b, u].item<long>() != batch.SentenceIds[b, u - 1].item<long>()) return false;
        }
        return true;
    }

    /// <summary>Naive features: an explicit [B, T, K, d_sae] stack of shifted pre-activations, pure autograd.</summary>
    public static Tensor ReferenceFeatures(TemporalSparseAutoencoder sae, ActivationBatch batch, string boundary, int topK = 0)
    {
        var h = ReferencePreActivations(sae, batch, boundary);
        if (topK == 0) return torch.nn.functional.relu(h);
        var (values, indices) = h.topk(topK, -1);
        return torch.zeros_like(h).scatter(-1, indices, torch.nn.functional.relu(values));
    }

    /// <summary>Naive h [B, T, d_sae]: the convolution before the activation.</summary>
    public static Tensor ReferencePreActivations(TemporalSparseAutoencoder sae, ActivationBatch batch, string boundary)
    {
        int b = (int)batch.X.shape[0], t = (int)batch.X.shape[1], k = sae.Buffer;
        var z = (batch.X - sae.b_dec).matmul(sae.W_enc) + sae.b_enc;              // [B, T, d_sae]
        var shifted = Enumerable.Range(0, k)
            .Select(j => torch.nn.functional.pad(z, [0, 0, j, 0]).narrow(1, 0, t))   // z_{t-j}: [B, T, d_sae]
            .ToArray();
        var stack = torch.stack(shifted, 2);                                        // [B, T, K, d_sae]
        var mask = new float[b * t * k];
        for (int row = 0; row < b; row++)
            for (int col = 0; col < t; col++)
                for (int j = 0; j < k; j++)
                {
                    bool excluded = j > 0 && sae.ExcludeSpecialTokens && col - j >= 0 && batch.Special is { } s && s[row, col - j].item<bool>();
                    mask[(row * t + col) * k + j] = SameSegment(batch, boundary, row, col, j) && !excluded ? 1 : 0;
                }
        var m = torch.tensor(mask, [b, t, k, 1]);
        return (stack * sae.C * m).sum(2);                                          // [B, T, d_sae]
    }

    /// <summary>Naive loss with the same definitions as <see cref="TemporalSparseAutoencoder"/>'s documentation.</summary>
    public static Tensor ReferenceLoss(TemporalSparseAutoencoder sae, ActivationBatch batch, string boundary,
        StepCoefficients coefficients, int topK = 0)
    {
        int b = (int)batch.X.shape[0], t = (int)batch.X.shape[1];
        var f = ReferenceFeatures(sae, batch, boundary, topK);
        var xHat = f.matmul(sae.W_dec) + sae.b_dec;
        var norms = sae.W_dec.norm(1);
        var keep = batch.Special!.logical_not().to_type(ScalarType.Float32);      // [B, T]
        var mse = ((xHat - batch.X).pow(2).sum(-1) * keep).sum() / keep.sum();
        var sparsity = ((f * norms).sum(-1) * keep).sum() / keep.sum();
        var temporal = torch.zeros([]);
        foreach (var level in sae.Levels)
        {
            if (level.Scales.Count == 0) continue;
            var levelLoss = torch.zeros([]);
            foreach (int s in level.Scales)
            {
                var pairs = new List<Tensor>();
                for (int row = 0; row < b; row++)
                    for (int col = s; col < t; col++)
                    {
                        if (!SameSegment(batch, boundary, row, col, s)) continue;
                        if (batch.Special[row, col].item<bool>() || batch.Special[row, col - s].item<bool>()) continue;
                        var d = (f[row, col] - f[row, col - s]).abs() * norms;
                        pairs.Add(d.narrow(0, level.Start, level.End - level.Start).sum());
                    }
                if (pairs.Count > 0) levelLoss = levelLoss + torch.stack(pairs).mean();
            }
            temporal = temporal + level.Weight * levelLoss / level.Scales.Count;
        }
        return mse + coefficients["sparsity"] * sparsity + temporal;
    }
}
