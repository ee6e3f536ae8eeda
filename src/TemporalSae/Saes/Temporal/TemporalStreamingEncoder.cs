// Token-by-token encoder for the Temporal SAE (docs/science.md, "The Temporal SAE" 1): a ring buffer of the last K-1
// pre-activations per stream gives the same features as the batched convolution over whole sequences.
using TemporalSae.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

/// <summary>
/// Encodes S independent streams one token at a time. Each <see cref="Step"/> takes the next token of every stream
/// with its segment ids; a change of id (per the SAE's boundary mode) starts a new segment and empties that stream's
/// buffer. When the SAE keeps special tokens out of its buffer, a special token enters the ring as zeros. Not thread-safe; the ring buffer tensors are owned here and released by <see cref="Dispose"/>.
/// </summary>
public sealed class TemporalStreamingEncoder : IDisposable
{
    readonly TemporalSparseAutoencoder sae;
    readonly Tensor?[] ring;        // ring[(step - j) mod (K-1)] = z of j steps ago: [S, d_sae]
    readonly long[] runs;           // per stream: earlier positions of the current segment
    readonly long[] lastDocument, lastSentence;
    long steps;

    public TemporalStreamingEncoder(TemporalSparseAutoencoder sae, int streams)
    {
        if (streams < 1) throw new InvalidInputException($"streaming encoder: streams = {streams} must be at least 1.");
        this.sae = sae;
        Streams = streams;
        ring = new Tensor?[Math.Max(sae.Buffer - 1, 0)];
        runs = new long[streams];
        lastDocument = new long[streams];
        lastSentence = new long[streams];
    }

    public int Streams { get; }

    /// <summary>Makes the next token of <paramref name="stream"/> start a new segment.</summary>
    public void Reset(int stream) => runs[stream] = -1;

    /// <summary>
    /// Features [S, d_sae] for x [S, d_in], the next token of every stream. Ids may be null when the SAE's boundary
    /// mode does not use them; <paramref name="special"/> (one flag per stream) may be null when no token is special.
    /// </summary>
    public Tensor Step(Tensor x, long[]? documentIds = null, long[]? sentenceIds = null, bool[]? special = null)
    {
        if (special is not null && special.Length != Streams)
            throw new InvalidInputException($"streaming encoder: {special.Length} special flags for {Streams} streams.");
        if (x.dim() != 2 || x.shape[0] != Streams || x.shape[1] != sae.DIn)
            throw new InvalidInputException(
                $"streaming encoder: x has shape [{string.Join(", ", x.shape)}], expected [{Streams}, {sae.DIn}].");
        bool docs = sae.Boundary is BoundaryMode.Document or BoundaryMode.Sentence;
        bool sentences = sae.Boundary is BoundaryMode.Sentence;
        if ((docs && documentIds?.Length != Streams) || (sentences && sentenceIds?.Length != Streams))
            throw new InvalidInputException(
                $"streaming encoder: boundary {sae.Boundary.ToString().ToLowerInvariant()} needs one document" +
                (sentences ? " and one sentence" : "") + $" id per stream ({Streams}).");

        for (int s = 0; s < Streams; s++)
        {
            bool same = steps > 0 && runs[s] >= 0
                && (!docs || documentIds![s] == lastDocument[s])
                && (!sentences || sentenceIds![s] == lastSentence[s]);
            runs[s] = same ? runs[s] + 1 : 0;
            if (docs) lastDocument[s] = documentIds![s];
            if (sentences) lastSentence[s] = sentenceIds![s];
        }

        using var scope = torch.NewDisposeScope();
        var c = sae.C;
        var z = sae.TokenPreActivations(x);     // [S, d_sae]
        var h = z * c[0];
        for (int j = 1; j <= ring.Length && j <= steps; j++)
        {
            var past = ring[(int)((steps - j) % ring.Length)]!;
            var mask = torch.tensor(runs.Select(r => r >= j ? 1f : 0f).ToArray(), [Streams, 1], device: x.device);
            h.addcmul_(past * mask, c[j], 1);
        }
        var f = sae.ApplyActivation(h);
        if (ring.Length > 0)
        {
            int slot = (int)(steps % ring.Length);
            ring[slot]?.Dispose();
            var kept = z.detach();
            if (sae.ExcludeSpecialTokens && special is not null && special.Any(s => s))
                kept = kept * torch.tensor(special.Select(s => s ? 0f : 1f).ToArray(), [Streams, 1], device: x.device);
            ring[slot] = kept.DetachFromDisposeScope();
        }
        steps++;
        return f.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        for (int i = 0; i < ring.Length; i++)
        {
            ring[i]?.Dispose();
            ring[i] = null;
        }
    }
}
