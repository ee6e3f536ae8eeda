// Properties any correct Gemma-2 pass has, on random weights: causality, the reach of sliding-window layers,
// batch rows computed independently, and residual hooks (capture, identity splice, replacement, early stop).
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using static TemporalSae.Tests.Models.Gemma2.Gemma2TestModels;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models.Gemma2;

public class Gemma2InvariantTests
{
    const Gemma2AttentionKind S = Gemma2AttentionKind.Sliding;
    const Gemma2AttentionKind F = Gemma2AttentionKind.Full;

    /// <summary>Unaffected positions go through exactly the same arithmetic; allow only for rounding noise.</summary>
    const double Same = 1e-6;

    /// <summary>A real dependence on random weights moves values by far more than this.</summary>
    const double Changed = 1e-3;

    [Fact]
    public void Changing_a_token_leaves_earlier_positions_unchanged()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F, S, F));
        Tensor ids = Tokens(2, 16, 50, seed: 1);
        Tensor edited = ids.clone();
        edited[.., 9] = (ids[.., 9] + 1) % 50;

        ModelOutput a = model.Forward(ids, new ResidHook(2)), b = model.Forward(edited, new ResidHook(2));
        Assert.True(MaxDiff(a.Logits!, b.Logits!, 0, 9) <= Same);
        Assert.True(MaxDiff(a.ResidPost!, b.ResidPost!, 0, 9) <= Same);
        Assert.True(MaxDiff(a.Logits!, b.Logits!, 9, 10) > Changed);
        Assert.True(MaxDiff(a.Logits!, b.Logits!, 15, 16) > Changed);
    }

    [Fact]
    public void Sliding_layers_do_not_see_beyond_the_window()
    {
        using var scope = NewDisposeScope();
        // Window 3: a query sees itself and the 2 keys before it, so each sliding layer reaches 2 positions back.
        using var sliding = Random(Config(S, S));
        Tensor ids = Tokens(1, 12, 50, seed: 2);
        Tensor edited = ids.clone();
        edited[0, 2] = (ids[0, 2] + 1) % 50;

        ModelOutput a = sliding.Forward(ids, new ResidHook(0)), b = sliding.Forward(edited, new ResidHook(0));
        // After block 0, the change at 2 reaches positions 2..4 only; after block 1, 2..6.
        Assert.True(MaxDiff(a.ResidPost!, b.ResidPost!, 4, 5) > Changed);
        Assert.True(MaxDiff(a.ResidPost!, b.ResidPost!, 5, 12) <= Same);
        Assert.True(MaxDiff(a.Logits!, b.Logits!, 6, 7) > Changed);
        Assert.True(MaxDiff(a.Logits!, b.Logits!, 7, 12) <= Same);

        // The same weights with full attention do see position 2 from the end of the sequence.
        using var full = Random(Config(F, F));
        Assert.True(MaxDiff(full.Forward(ids).Logits!, full.Forward(edited).Logits!, 11, 12) > Changed);
    }

    [Fact]
    public void Batch_rows_are_computed_independently()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F));
        Tensor ids = Tokens(3, 10, 50, seed: 3);
        Tensor together = model.Forward(ids).Logits!;
        for (int row = 0; row < 3; row++)
        {
            Tensor alone = model.Forward(ids.narrow(0, row, 1)).Logits!;
            Assert.True((alone - together.narrow(0, row, 1)).abs().max().item<float>() <= 1e-5);
        }
    }

    [Fact]
    public void Identity_splice_equals_the_clean_pass()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F, S, F));
        Tensor ids = Tokens(2, 12, 50, seed: 4);
        ModelOutput clean = model.Forward(ids, new ResidHook(1));
        ModelOutput same = model.Forward(ids, new ResidHook(1, Replace: x => x));
        ModelOutput copy = model.Forward(ids, new ResidHook(1, Replace: x => x.clone()));

        Assert.Equal(0, (clean.Logits! - same.Logits!).abs().max().item<float>());
        Assert.Equal(0, (clean.Logits! - copy.Logits!).abs().max().item<float>());
        Assert.Equal(0, (clean.ResidPost! - same.ResidPost!).abs().max().item<float>());
    }

    [Fact]
    public void Replacement_continues_the_pass_and_capture_keeps_the_clean_residual()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F, S));
        Tensor ids = Tokens(1, 8, 50, seed: 5);
        ModelOutput clean = model.Forward(ids, new ResidHook(1));
        // In place on purpose: the captured residual must not follow the argument.
        ModelOutput spliced = model.Forward(ids, new ResidHook(1, Replace: x => x.mul_(0.5)));

        Assert.Equal(0, (clean.ResidPost! - spliced.ResidPost!).abs().max().item<float>());
        Assert.True((clean.Logits! - spliced.Logits!).abs().max().item<float>() > Changed);
    }

    [Fact]
    public void Stop_after_returns_the_residual_without_logits()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F, S));
        Tensor ids = Tokens(2, 8, 50, seed: 6);
        ModelOutput full = model.Forward(ids, new ResidHook(1));
        ModelOutput stopped = model.Forward(ids, new ResidHook(1, StopAfter: true));

        Assert.Null(stopped.Logits);
        Assert.Equal([2L, 8, 16], stopped.ResidPost!.shape);
        Assert.Equal(0, (full.ResidPost! - stopped.ResidPost).abs().max().item<float>());
    }

    [Fact]
    public void Loading_running_and_disposing_leave_no_live_tensors()
    {
        long Live() => TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long before = Live();
        var model = Random(Config(S, F));
        Tensor ids = Tokens(2, 6, 50, seed: 9);
        long loaded = Live();
        foreach (ResidHook? hook in new ResidHook?[] { null, new(0), new(1, Replace: x => x * 2), new(0, StopAfter: true) })
        {
            ModelOutput result = model.Forward(ids, hook);
            result.Logits?.Dispose();
            result.ResidPost?.Dispose();
        }

        Assert.Equal(loaded, Live());
        model.Dispose();
        ids.Dispose();
        Assert.Equal(before, Live());
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_a_reason()
    {
        using var scope = NewDisposeScope();
        using var model = Random(Config(S, F));
        Tensor ids = Tokens(1, 4, 50, seed: 8);

        Assert.Contains("layers 0..1", Assert.Throws<InvalidInputException>(() => model.Forward(ids, new ResidHook(2))).Message);
        Assert.Contains("vocabulary has 50", Assert.Throws<InvalidInputException>(
            () => model.Forward(tensor(new long[] { 3, 50 }).reshape(1, 2))).Message);
        Assert.Contains("int64", Assert.Throws<InvalidInputException>(() => model.Forward(ids.to(ScalarType.Int32))).Message);
        Assert.Contains("expected [1, 4, 16]", Assert.Throws<InvalidInputException>(
            () => model.Forward(ids, new ResidHook(0, Replace: x => x.narrow(2, 0, 8)))).Message);
    }
}
