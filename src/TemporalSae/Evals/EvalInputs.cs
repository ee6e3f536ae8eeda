// What every evaluation stage opens first: the prepared data, the subject model, the trained SAE and the hook's block.
using TemporalSae.Activations;
using TemporalSae.Data;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Training;

namespace TemporalSae.Evals;

public sealed class EvalInputs : IDisposable
{
    readonly int contextSize;

    EvalInputs(PreparedData data, LoadedSubjectModel subject, SparseAutoencoder sae, int layer, int contextSize)
    {
        this.contextSize = contextSize;
        Data = data;
        Subject = subject;
        Sae = sae;
        Layer = layer;
    }

    public PreparedData Data { get; }
    public LoadedSubjectModel Subject { get; }
    public SparseAutoencoder Sae { get; }

    /// <summary>The block index of the manifest's hook in the subject model.</summary>
    public int Layer { get; }

    public static EvalInputs Open(StageContext context)
    {
        var config = context.Config;
        PreparedData data = DataStage.Load(context.Input("data"));
        LoadedSubjectModel subject = SubjectModelStage.Open(context.Input("subject_model"), config.SubjectModel);
        try
        {
            SparseAutoencoder sae = SaeStage.Open(context.Input("sae"), context.Environment.Architectures);
            return new EvalInputs(data, subject, sae, ActivationsStage.HookLayer(config.Activations.Hook, subject.Model), config.Data.ContextSize);
        }
        catch
        {
            subject.Dispose();
            throw;
        }
    }

    /// <summary>The first held-out (test split) windows, up to <paramref name="tokenBudget"/> tokens.</summary>
    public EvalWindows TestWindows(long tokenBudget) => EvalWindows.FromSplit(Data, Split.Test, contextSize, tokenBudget);

    /// <summary>The hook's activation [B, T, d] for GPT-2 ids [B, T]; the pass stops after the hook's block.</summary>
    public TorchSharp.torch.Tensor HookActivations(TorchSharp.torch.Tensor gpt2Ids) =>
        Subject.Model.Forward(Subject.ToModelIds(gpt2Ids), new ResidHook(Layer, StopAfter: true)).ResidPost!;

    /// <summary>Both passes of one batch (see <see cref="SplicedForward"/>).</summary>
    public SplicedForward Splice(EvalBatch batch, TorchSharp.torch.Tensor modelIds, bool excludeSpecialTokens) =>
        SplicedForward.Run(Subject, Sae, Layer, batch, modelIds, excludeSpecialTokens);

    public void Dispose()
    {
        Sae.Dispose();
        Subject.Dispose();
    }
}
