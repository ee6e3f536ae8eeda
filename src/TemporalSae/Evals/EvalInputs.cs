// What every evaluation stage opens first: the prepared data, the subject model, the trained SAE and the hook's block.
using TemporalSae.Activations;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using TemporalSae.Saes;
using TemporalSae.Training;

namespace TemporalSae.Evals;

public sealed class EvalInputs : IDisposable
{
    readonly int contextSize;

    EvalInputs(PreparedData data, LoadedSubjectModel subject, SparseAutoencoder sae, int layer, int contextSize, long windowSeed)
    {
        this.contextSize = contextSize;
        WindowSeed = windowSeed;
        Data = data;
        Subject = subject;
        Sae = sae;
        Layer = layer;
        Latents = new ScaledLatents(sae);
    }

    public PreparedData Data { get; }
    public LoadedSubjectModel Subject { get; }
    public SparseAutoencoder Sae { get; }

    /// <summary>The block index of the manifest's hook in the subject model.</summary>
    public int Layer { get; }

    /// <summary>The SAE's latents scaled by their decoder row norms, for evaluations that compare latents.</summary>
    public ScaledLatents Latents { get; }

    /// <summary>f_i ||W_dec,i|| for a batch [.., d_sae] (see <see cref="ScaledLatents"/>).</summary>
    public TorchSharp.torch.Tensor ScaledFeatures(ActivationBatch batch) => Latents.Encode(batch);

    public static EvalInputs Open(StageContext context)
    {
        var config = context.Config;
        PreparedData data = DataStage.Load(context.Input("data"));
        LoadedSubjectModel subject = SubjectModelStage.Open(context.Input("subject_model"), config.SubjectModel);
        try
        {
            SparseAutoencoder sae = SaeStage.Open(context.Input("sae"), context.Environment.Architectures);
            return new EvalInputs(data, subject, sae, ActivationsStage.HookLayer(config.Activations.Hook, subject.Model), config.Data.ContextSize,
                ContentHash.DeriveSeed(config.Seed, WindowSeedName));
        }
        catch
        {
            subject.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the window order's seed derives from, beside the run's seed. One seed for every evaluation (not each
    /// stage's own), so evaluations with the same budget read the same windows and a smaller budget a subset.
    /// </summary>
    public const string WindowSeedName = "eval_windows";

    /// <summary>The seed of <see cref="WindowSampling.StratifiedOrder"/> for every evaluation of the run.</summary>
    public long WindowSeed { get; }

    /// <summary>Held-out (test split) windows up to <paramref name="tokenBudget"/> tokens, stratified by label and document.</summary>
    public EvalWindows TestWindows(long tokenBudget) => EvalWindows.FromSplit(Data, Split.Test, contextSize, tokenBudget, WindowSeed);

    /// <summary>The hook's activation [B, T, d] for corpus token ids [B, T]; the pass stops after the hook's block.</summary>
    public TorchSharp.torch.Tensor HookActivations(TorchSharp.torch.Tensor tokenIds) =>
        Subject.Model.Forward(Subject.ToModelIds(tokenIds), new ResidHook(Layer, StopAfter: true)).ResidPost!;

    /// <summary>Both passes of one batch (see <see cref="SplicedForward"/>).</summary>
    public SplicedForward Splice(EvalBatch batch, TorchSharp.torch.Tensor modelIds, bool excludeSpecialTokens) =>
        SplicedForward.Run(Subject, Sae, Layer, batch, modelIds, excludeSpecialTokens);

    public void Dispose()
    {
        Latents.Dispose();
        Sae.Dispose();
        Subject.Dispose();
    }
}
