// Segment structure of a sequence batch for the temporal SAEs: which earlier positions a token may look at
// (the buffer mask m_{t,j} of docs/science.md, "The Temporal SAE" 1 and 4) and which position pairs the losses compare.
using TemporalSae.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Saes.Temporal;

/// <summary>Which segments the temporal buffer and the temporal losses never cross.</summary>
public enum BoundaryMode
{
    /// <summary>Only the sequence edges limit the buffer.</summary>
    None,
    /// <summary>A change of document id is a boundary.</summary>
    Document,
    /// <summary>A change of document id or of sentence id is a boundary.</summary>
    Sentence,
}

/// <summary>
/// Per-position run lengths of a [B, T] sequence batch: <c>Run[b, t]</c> is the number of earlier positions of
/// the same segment that precede t without a boundary in between (t itself when boundaries are off). A boundary is
/// a change of id between neighbours, so ids only need to differ across a boundary, not be globally unique.
/// m_{t,j} = 1 exactly when Run[b, t] &gt;= j and, when special tokens are kept out of the buffer, t-j is not special.
/// Special tokens never take part in a loss pair, and the losses skip them as positions.
/// </summary>
internal sealed class TemporalSegments
{
    readonly long[] runs;
    readonly bool[] special;

    TemporalSegments(int b, int t, long[] runs, bool[] special, BoundaryMode mode, Device device)
    {
        B = b;
        T = t;
        this.runs = runs;
        this.special = special;
        Mode = mode;
        Device = device;
    }

    public int B { get; }
    public int T { get; }
    public BoundaryMode Mode { get; }
    public Device Device { get; }

    public static BoundaryMode ParseBoundary(string boundary) => boundary switch
    {
        "none" => BoundaryMode.None,
        "document" => BoundaryMode.Document,
        "sentence" => BoundaryMode.Sentence,
        _ => throw new InvalidInputException(
            $"sae.temporal.boundary: '{boundary}' is not one of none, document, sentence."),
    };

    /// <summary>Reads the ids of a sequence batch (X [B, T, d_in]) and builds the run lengths.</summary>
    public static TemporalSegments Of(ActivationBatch batch, BoundaryMode mode)
    {
        if (!batch.IsSequence)
            throw new InvalidInputException(
                $"temporal SAE: expected a sequence batch X [B, T, d_in], got shape [{string.Join(", ", batch.X.shape)}]; " +
                "train temporal architectures on sequence batches (whole context windows).");
        int b = (int)batch.X.shape[0], t = (int)batch.X.shape[1];
        long[]? docs = mode is BoundaryMode.Document or BoundaryMode.Sentence
            ? ReadIds(batch.DocumentIds, "DocumentIds", b, t, mode) : null;
        long[]? sentences = mode is BoundaryMode.Sentence ? ReadIds(batch.SentenceIds, "SentenceIds", b, t, mode) : null;
        bool[] special = new bool[b * t];
        if (batch.Special is { } s)
        {
            CheckShape(s, "Special", b, t);
            using var cpu = s.to_type(ScalarType.Bool).cpu();
            cpu.data<bool>().CopyTo(special);
        }
        return new TemporalSegments(b, t, Runs(b, t, docs, sentences), special, mode, batch.X.device);
    }

    /// <summary>Run lengths from (optional) document and sentence ids, row-major [B, T].</summary>
    internal static long[] Runs(int b, int t, long[]? docs, long[]? sentences)
    {
        var runs = new long[b * t];
        for (int row = 0; row < b; row++)
            for (int col = 1; col < t; col++)
            {
                int i = row * t + col;
                bool same = (docs is null || docs[i] == docs[i - 1]) && (sentences is null || sentences[i] == sentences[i - 1]);
                runs[i] = same ? runs[i - 1] + 1 : 0;
            }
        return runs;
    }

    static long[] ReadIds(Tensor? ids, string name, int b, int t, BoundaryMode mode)
    {
        if (ids is null)
            throw new InvalidInputException(
                $"sae.temporal.boundary: {mode.ToString().ToLowerInvariant()} needs {name} [B, T] in every batch, " +
                "but the batch has none; use sequence batches with segment ids or set boundary: none.");
        CheckShape(ids, name, b, t);
        using var cpu = ids.to_type(ScalarType.Int64).cpu();
        return cpu.data<long>().ToArray();
    }

    static void CheckShape(Tensor tensor, string name, int b, int t)
    {
        if (tensor.dim() != 2 || tensor.shape[0] != b || tensor.shape[1] != t)
            throw new InvalidInputException(
                $"temporal SAE: {name} has shape [{string.Join(", ", tensor.shape)}], expected [{b}, {t}] to match X.");
    }

    /// <summary>
    /// Whether any pair (t, t-j) with 1 &lt;= j &lt;= maxLag is cut by a boundary or, with <paramref name="excludeSpecial"/>,
    /// by a special token at t-j, i.e. whether masks are needed.
    /// </summary>
    public bool HasCuts(int maxLag, bool excludeSpecial)
    {
        for (int row = 0; row < B; row++)
            for (int col = 1; col < T; col++)
            {
                if (runs[row * T + col] < Math.Min(col, maxLag)) return true;
                if (excludeSpecial && maxLag >= 1 && special[row * T + col - 1]) return true;
            }
        return false;
    }

    /// <summary>
    /// m_j for t = j..T-1 as float [B, T-j, 1]: 1 when t-j is in t's segment and, with <paramref name="excludeSpecial"/>,
    /// not a special token.
    /// </summary>
    public Tensor BufferMask(int j, bool excludeSpecial)
    {
        var values = new float[B * (T - j)];
        for (int row = 0; row < B; row++)
            for (int col = j; col < T; col++)
            {
                bool kept = runs[row * T + col] >= j && !(excludeSpecial && special[row * T + col - j]);
                values[row * (T - j) + col - j] = kept ? 1f : 0f;
            }
        return torch.tensor(values, [B, T - j, 1], device: Device);
    }

    /// <summary>
    /// Loss pairs (t, t-s) for t = s..T-1 as float [B, T-s]: same segment and neither token special.
    /// </summary>
    public Tensor PairMask(int s, out long count)
    {
        count = 0;
        int width = Math.Max(T - s, 0);
        var values = new float[B * width];
        for (int row = 0; row < B; row++)
            for (int col = s; col < T; col++)
            {
                int i = row * T + col;
                bool valid = runs[i] >= s && !special[i] && !special[i - s];
                values[row * width + col - s] = valid ? 1f : 0f;
                if (valid) count++;
            }
        return torch.tensor(values, [B, width], device: Device);
    }

    /// <summary>Positions that count in the losses (non-special tokens) as float [B, T], and how many there are.</summary>
    public Tensor KeepMask(out long count)
    {
        var values = new float[B * T];
        count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = special[i] ? 0f : 1f;
            if (!special[i]) count++;
        }
        return torch.tensor(values, [B, T], device: Device);
    }
}
