// Where the trainer's batches come from. The trainer knows nothing of language models: it sees epochs of
// ActivationBatch, and the batch of any step is a pure function of (seed, step), which is what makes a resumed run
// identical to an uninterrupted one.
using TemporalSae.Activations;
using TemporalSae.Infrastructure;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Training;

public interface IBatchSource
{
    /// <summary>Steps in one pass over the data.</summary>
    long StepsPerEpoch { get; }

    /// <summary>Tokens per step (before special tokens are left out).</summary>
    int TokensPerStep { get; }

    int DIn { get; }

    /// <summary>The batches of one epoch, in a seeded order; each batch's tensors belong to the caller.</summary>
    IEnumerable<ActivationBatch> Epoch(long epoch);
}

/// <summary>
/// Batches from an activation store: shuffled tokens [N, d] for ordinary SAEs (special tokens left out), or whole
/// sequences [B, T, d] with their boundary ids for temporal SAEs. Partial final batches are dropped.
/// </summary>
public sealed class StoreBatchSource : IBatchSource
{
    readonly ActivationStore store;
    readonly bool sequences;
    readonly int batchSize;
    readonly long seed;

    public StoreBatchSource(ActivationStore store, bool sequences, int tokensPerStep, long seed)
    {
        this.store = store;
        this.sequences = sequences;
        this.seed = seed;
        batchSize = sequences ? tokensPerStep / store.ContextSize : tokensPerStep;
        if (batchSize < 1)
            throw new InvalidInputException(
                $"training.batch_size = {tokensPerStep} tokens is less than one context window ({store.ContextSize} tokens), which sequence batches need");
        long units = sequences ? store.NumSequences : store.NumTokens;
        StepsPerEpoch = units / batchSize;
        TokensPerStep = sequences ? batchSize * store.ContextSize : batchSize;
    }

    public long StepsPerEpoch { get; }
    public int TokensPerStep { get; }
    public int DIn => store.DModel;

    public IEnumerable<ActivationBatch> Epoch(long epoch)
    {
        long epochSeed = ContentHash.DeriveSeed(seed, $"epoch-{epoch}");
        var batches = sequences
            ? store.SequenceBatches(batchSize, epochSeed, dropLast: true)
            : store.TokenBatches(batchSize, epochSeed, dropLast: true);
        foreach (ActivationStoreBatch batch in batches)
        {
            batch.TokenIds.Dispose();
            batch.LabelIds.Dispose();
            batch.PosIds.Dispose();
            yield return sequences ? batch.Activations : WithoutSpecialTokens(batch.Activations);
        }
    }

    static ActivationBatch WithoutSpecialTokens(ActivationBatch batch)
    {
        using Tensor keep = batch.Special!.logical_not();
        var kept = new ActivationBatch(batch.X[keep]);
        batch.X.Dispose();
        batch.DocumentIds?.Dispose();
        batch.SentenceIds?.Dispose();
        batch.Special.Dispose();
        return kept;
    }
}
