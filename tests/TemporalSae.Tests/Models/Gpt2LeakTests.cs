// Native memory is invisible to the GC: every temporary of a forward pass (with any hook) and of a training step must
// be disposed, so the thread's live tensor count returns to where it was.
using TemporalSae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models;

public class Gpt2LeakTests
{
    [Fact]
    public void ForwardPassesAndTrainingStepsLeaveNoLiveTensors()
    {
        using var model = new Gpt2Model(TinyGpt2.Config(), seed: 1);
        using var ids = TinyGpt2.Ids(2);
        using var optimizer = optim.AdamW(model.parameters());
        void Work()
        {
            using var scope = NewDisposeScope();
            using (no_grad())
            {
                model.Forward(ids);
                model.Forward(ids, new ResidHook(1));
                model.Forward(ids, new ResidHook(0, Replace: x => x * 0.5));
                model.Forward(ids, new ResidHook(2, StopAfter: true));
            }
            optimizer.zero_grad();
            var logits = model.forward(ids);
            nn.functional.cross_entropy(logits.reshape(-1, 50), ids.reshape(-1)).backward();
            optimizer.step();
        }

        Work();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++) Work();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
