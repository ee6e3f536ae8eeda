// The features the sparse probing tasks read: one pass of the subject model over the plan's windows, the hook's
// activation x (stopped after the hook's block) and the SAE's features f = Encode(x) of whole windows, so temporal
// SAEs see each window causally with its boundaries. Kept per example only, as SAEBench's sparse_probing does:
// window means over non-special tokens for document-level tasks, single positions for token-level ones.
using static TorchSharp.torch;

namespace TemporalSae.Evals.Probing;

/// <summary>Rows follow the plan: <see cref="ProbingPlan.Windows"/> for the pooled matrices, <see cref="ProbingPlan.Tokens"/> for the token ones.</summary>
public sealed record ProbeFeatures(FeatureMatrix WindowModel, FeatureMatrix WindowSae, FeatureMatrix TokenModel, FeatureMatrix TokenSae)
{
    public static ProbeFeatures Extract(EvalInputs inputs, ProbingPlan plan, int batchSize)
    {
        int dModel = inputs.Subject.Model.DModel, dSae = inputs.Sae.DSae, t = plan.Windows.ContextSize;
        var windowModel = new float[(long)plan.Windows.Count * dModel];
        var windowSae = new float[(long)plan.Windows.Count * dSae];
        var tokenModel = new float[(long)plan.Tokens.Count * dModel];
        var tokenSae = new float[(long)plan.Tokens.Count * dSae];
        ILookup<int, int> tokensOfWindow = Enumerable.Range(0, plan.Tokens.Count).ToLookup(i => plan.Tokens[i].Window);

        int start = 0;
        using (no_grad())
        {
            foreach (EvalBatch batch in plan.Windows.Batches(batchSize))
            {
                using var scope = NewDisposeScope();
                int rows = (int)batch.TokenIds.shape[0];
                Tensor x = inputs.HookActivations(batch.TokenIds);                                                        // [B, T, d]
                Tensor f = inputs.ScaledFeatures(batch.Activations(x));                                                  // [B, T, d_sae]
                CopyRows(MeanPool(x, batch.Special), windowModel, start);
                CopyRows(MeanPool(f, batch.Special), windowSae, start);

                int[] tokenRows = Enumerable.Range(start, rows).SelectMany(w => tokensOfWindow[w]).ToArray();
                if (tokenRows.Length > 0)
                {
                    long[] flat = tokenRows.Select(i => (long)(plan.Tokens[i].Window - start) * t + plan.Tokens[i].Position).ToArray();
                    Tensor index = tensor(flat);
                    // Token rows are ordered by window and position, so this batch's rows are consecutive.
                    CopyRows(x.reshape(-1, dModel).index_select(0, index), tokenModel, tokenRows[0]);                  // [n, d]
                    CopyRows(f.reshape(-1, dSae).index_select(0, index), tokenSae, tokenRows[0]);                      // [n, d_sae]
                }
                start += rows;
            }
        }
        return new ProbeFeatures(
            new FeatureMatrix(windowModel, plan.Windows.Count, dModel), new FeatureMatrix(windowSae, plan.Windows.Count, dSae),
            new FeatureMatrix(tokenModel, plan.Tokens.Count, dModel), new FeatureMatrix(tokenSae, plan.Tokens.Count, dSae));
    }

    /// <summary>Mean of <paramref name="values"/> [B, T, D] over the positions where <paramref name="special"/> [B, T] is false: [B, D].</summary>
    public static Tensor MeanPool(Tensor values, Tensor special)
    {
        Tensor keep = special.logical_not().unsqueeze(-1).to(values.dtype);                  // [B, T, 1]
        Tensor count = keep.sum(1).clamp_min(1);                                               // [B, 1]
        return (values * keep).sum(1) / count;                                                 // [B, D]
    }

    /// <summary>Copies [n, D] into <paramref name="destination"/> from row <paramref name="firstRow"/> on, as float32.</summary>
    static void CopyRows(Tensor rows, float[] destination, int firstRow)
    {
        float[] values = rows.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        Array.Copy(values, 0, destination, (long)firstRow * rows.shape[1], values.LongLength);
    }
}
