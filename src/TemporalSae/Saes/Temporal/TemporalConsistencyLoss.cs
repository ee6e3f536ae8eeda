// Temporal consistency loss (docs/science.md, "The Temporal SAE" 2 and 3), fused into one autograd node:
//   L_tc(s) = mean over valid pairs (t, t-s) of sum_i |f_{t,i} - f_{t-s,i}| * ||W_dec,i||
// per level over the level's latents, averaged over the level's scales. The node keeps no [B, T, d_sae] tensor of its
// own (f is kept by the decoder anyway) and recomputes the differences in the backward pass.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TemporalSae.Saes.Temporal;

internal static class TemporalConsistencyLoss
{
    /// <summary>
    /// Per-level consistency [L] (unweighted: the mean over the level's scales of L_tc(s) on its latents; 0 for a
    /// level without scales or without any valid pair). f [B*T, d_sae] (tokens as rows, sequence by sequence),
    /// decoderNorms [d_sae].
    /// A pair is valid when both positions are in the same segment (boundary-aware) and neither is a special token.
    /// </summary>
    public static Tensor PerLevel(Tensor f, Tensor decoderNorms, TemporalSegments segments, IReadOnlyList<ResolvedLevel> levels)
    {
        int[] scales = levels.SelectMany(l => l.Scales).Distinct().Order().ToArray();
        var masks = new Tensor[scales.Length];
        var counts = new long[scales.Length];
        for (int k = 0; k < scales.Length; k++) masks[k] = segments.PairMask(scales[k], out counts[k]);
        return TemporalConsistencyFunction.apply([f, decoderNorms, new ConsistencyPlan(levels, scales, counts, segments.T), .. masks]);
    }
}

/// <summary>The non-tensor description of one consistency computation.</summary>
internal sealed record ConsistencyPlan(IReadOnlyList<ResolvedLevel> Levels, int[] Scales, long[] Counts, long T);

internal sealed class TemporalConsistencyFunction : SingleTensorFunction<TemporalConsistencyFunction>
{
    public override string Name => "TemporalConsistency";

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var tokens = (Tensor)vars[0];
        var norms = (Tensor)vars[1];
        var plan = (ConsistencyPlan)vars[2];
        var masks = vars.Skip(3).Cast<Tensor>().ToArray();
        long t = plan.T, d = tokens.shape[1];

        using var scope = torch.NewDisposeScope();
        var f = tokens.view(-1, t, d);                                         // [B, T, d_sae]
        // A[k, i] = sum over valid pairs at scale k of |f_{t,i} - f_{t-s,i}|: [S, d_sae]. Saved variables are taken
        // after forward returns, so it must outlive this scope.
        var sums = torch.zeros([plan.Scales.Length, d], f.dtype, f.device).MoveToOuterDisposeScope();
        for (int k = 0; k < plan.Scales.Length; k++)
        {
            int s = plan.Scales[k];
            if (plan.Counts[k] == 0) continue;
            using var inner = torch.NewDisposeScope();
            var diff = f.narrow(1, s, t - s) - f.narrow(1, 0, t - s);        // [B, T-s, d_sae]
            diff.abs_();
            sums[k].copy_(masks[k].reshape(1, -1).matmul(diff.view(-1, d)).squeeze(0));
        }
        var perLevel = torch.zeros(plan.Levels.Count, f.dtype, f.device);
        for (int l = 0; l < plan.Levels.Count; l++)
        {
            var level = plan.Levels[l];
            var value = torch.zeros([], f.dtype, f.device);
            foreach (int s in level.Scales)
            {
                int k = Array.IndexOf(plan.Scales, s);
                if (plan.Counts[k] == 0) continue;
                var slice = sums[k].narrow(0, level.Start, level.End - level.Start);
                var weights = norms.narrow(0, level.Start, level.End - level.Start);
                value.add_(slice.dot(weights) / (plan.Counts[k] * level.Scales.Count));
            }
            perLevel[l].copy_(value);
        }
        ctx.save_for_backward([tokens, norms, sums, .. masks]);
        ctx.save_data("plan", plan);
        return perLevel.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        GradientHandoff.ReleaseEarlier();
        using var scope = torch.NewDisposeScope();
        var saved = ctx.get_saved_variables();
        Tensor norms = saved[1], sums = saved[2];
        var plan = (ConsistencyPlan)ctx.get_data("plan");
        long t = plan.T, d = saved[0].shape[1];
        var f = saved[0].view(-1, t, d);                                       // [B, T, d_sae]
        float[] g = gradOutput.to_type(ScalarType.Float32).cpu().data<float>().ToArray();

        var gf = torch.zeros_like(f);
        var gNorms = torch.zeros_like(norms);
        for (int k = 0; k < plan.Scales.Length; k++)
        {
            int s = plan.Scales[k];
            if (plan.Counts[k] == 0) continue;
            // w_s[i] = sum over the levels holding latent i and scale s of g_l / (|S_l| n_s)
            var w = new float[d];
            bool any = false;
            for (int l = 0; l < plan.Levels.Count; l++)
            {
                var level = plan.Levels[l];
                if (!level.Scales.Contains(s) || g[l] == 0) continue;
                float value = (float)(g[l] / ((double)plan.Counts[k] * level.Scales.Count));
                for (int i = level.Start; i < level.End; i++) w[i] += value;
                any = true;
            }
            if (!any) continue;
            using var inner = torch.NewDisposeScope();
            var ws = torch.tensor(w, device: f.device).to_type(f.dtype);  // [d_sae]
            gNorms.addcmul_(ws, sums[k], 1);
            var weights = ws * norms;
            var pairs = saved[3 + k].unsqueeze(-1);                          // [B, T-s, 1]
            foreach (var (start, length) in Blocks.Of(f.shape[0]))
            {
                using var block = torch.NewDisposeScope();
                var rows = f.narrow(0, start, length);
                var grad = rows.narrow(1, s, t - s) - rows.narrow(1, 0, t - s);   // [b, T-s, d_sae]
                grad.sign_().mul_(weights).mul_(pairs.narrow(0, start, length));
                var gRows = gf.narrow(0, start, length);
                gRows.narrow(1, s, t - s).add_(grad);
                gRows.narrow(1, 0, t - s).sub_(grad);
            }
        }
        return GradientHandoff.Return(gradOutput, [gf.view(-1, d), gNorms, null, .. new Tensor?[plan.Scales.Length]]);
    }
}
