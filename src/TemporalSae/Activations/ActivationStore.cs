// Reads an activation store through a memory map, one bounded view at a time, so the process's resident memory
// stays at a few batches whatever the store's size; yields seeded, shuffled batches of sequences or of tokens.

using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Saes;
using static TorchSharp.torch;

namespace TemporalSae.Activations;

/// <summary>
/// A batch read from a store: the SAE's view (<see cref="ActivationBatch"/>: X [B, T, d] or [N, d] float32,
/// DocumentIds and SentenceIds int64, Special bool, all with X's leading shape) plus the labels evaluations need
/// (token, label and POS ids, int64, same leading shape) and each row's flat token index in the store
/// (sequence * ContextSize + position). Tensors are registered in the dispose scope current when the reader
/// produced the batch; <see cref="Dispose"/> frees them at once, which streaming loops should do per batch.
/// </summary>
public sealed record ActivationStoreBatch(ActivationBatch Activations, Tensor TokenIds, Tensor LabelIds, Tensor PosIds, long[] TokenIndices) : IDisposable
{
    public void Dispose()
    {
        Activations.X.Dispose();
        Activations.DocumentIds?.Dispose();
        Activations.SentenceIds?.Dispose();
        Activations.Special?.Dispose();
        TokenIds.Dispose();
        LabelIds.Dispose();
        PosIds.Dispose();
    }
}

/// <summary>
/// A published store folder: activations.bin ([NumSequences, T, d] in the store's dtype), tokens.bin (columns over
/// the NumSequences*T tokens in the same order: int32 token ids, int32 document ids, int32 sentence ids, int16
/// label ids, int16 POS ids, uint8 special) and store.json. Opening checks the manifest, both file sizes and the
/// SHA-256 of tokens.bin, and loads the metadata (17 bytes per token); the activations' SHA-256, recorded at
/// write time, is re-checked only on request (<see cref="VerifyActivations"/>) because it means reading every byte.
/// </summary>
public sealed class ActivationStore : IDisposable
{
    public const string ActivationsFile = "activations.bin";
    public const string TokensFile = "tokens.bin";
    const int TokenRecordBytes = 4 + 4 + 4 + 2 + 2 + 1;

    readonly MemoryMappedFile map;
    readonly long sequenceBytes;

    ActivationStore(string path, ActivationStoreManifest manifest, ActivationDtype dtype, MemoryMappedFile map, TokenMetadata metadata)
    {
        Path = path;
        Manifest = manifest;
        Dtype = dtype;
        this.map = map;
        Metadata = metadata;
        sequenceBytes = (long)manifest.ContextSize * manifest.DModel * dtype.ElementSize();
    }

    public string Path { get; }
    public ActivationStoreManifest Manifest { get; }
    public ActivationDtype Dtype { get; }
    public int NumSequences => (int)Manifest.NumSequences;
    public int ContextSize => Manifest.ContextSize;
    public int DModel => Manifest.DModel;
    public long NumTokens => Manifest.NumSequences * Manifest.ContextSize;
    public IReadOnlyList<string> Labels => Manifest.Labels;
    public IReadOnlyList<string> PosTags => Manifest.PosTags;

    /// <summary>Per-token metadata in store order (sequence-major).</summary>
    public TokenMetadata Metadata { get; }

    public static ActivationStore Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        ActivationStoreManifest manifest = ActivationStoreManifest.Read(full);
        string where = $"activation store {full}";
        if (manifest.FormatVersion != ActivationStoreManifest.CurrentFormatVersion)
            throw new InvalidInputException($"{where} has format version {manifest.FormatVersion}; this tool reads {ActivationStoreManifest.CurrentFormatVersion}. Harvest the activations again.");
        ActivationDtype dtype = ActivationDtypes.Parse(manifest.Dtype);
        if (manifest.DModel < 1 || manifest.ContextSize < 1 || manifest.NumSequences < 1 || manifest.NumSequences > int.MaxValue)
            throw new InvalidInputException($"{where}: store.json has impossible shape [{manifest.NumSequences}, {manifest.ContextSize}, {manifest.DModel}].");
        long tokens = manifest.NumSequences * manifest.ContextSize;
        if (tokens > int.MaxValue) throw new InvalidInputException($"{where} holds {tokens} tokens; at most {int.MaxValue} are supported.");
        string activationsPath = System.IO.Path.Combine(full, ActivationsFile);
        string tokensPath = System.IO.Path.Combine(full, TokensFile);
        long expectedActivationBytes = tokens * manifest.DModel * dtype.ElementSize();
        CheckSize(activationsPath, expectedActivationBytes, manifest.ActivationBytes, where);
        CheckSize(tokensPath, tokens * TokenRecordBytes, manifest.TokenBytes, where);

        byte[] tokenBytes = File.ReadAllBytes(tokensPath);
        string tokenSha = Convert.ToHexStringLower(SHA256.HashData(tokenBytes));
        if (tokenSha != manifest.TokenSha256)
            throw new InvalidInputException($"{where}: {TokensFile} is corrupted (SHA-256 {tokenSha}, store.json records {manifest.TokenSha256}). Harvest the activations again.");
        TokenMetadata metadata = ReadColumns(tokenBytes, (int)tokens);

        var map = MemoryMappedFile.CreateFromFile(activationsPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        return new ActivationStore(full, manifest, dtype, map, metadata);
    }

    static void CheckSize(string path, long expected, long recorded, string where)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{where}: {System.IO.Path.GetFileName(path)} is missing.");
        long actual = new FileInfo(path).Length;
        if (actual != expected || recorded != expected)
            throw new InvalidInputException(
                $"{where}: {System.IO.Path.GetFileName(path)} has {actual} bytes; the shape in store.json needs {expected} (recorded {recorded}). The file is truncated or from another store.");
    }

    static TokenMetadata ReadColumns(byte[] bytes, int n)
    {
        int offset = 0;
        T[] Column<T>() where T : unmanaged
        {
            var values = new T[n];
            Span<byte> target = MemoryMarshal.AsBytes(values.AsSpan());
            bytes.AsSpan(offset, target.Length).CopyTo(target);
            offset += target.Length;
            return values;
        }
        return new TokenMetadata(Column<int>(), Column<int>(), Column<int>(), Column<short>(), Column<short>(), Column<bool>());
    }

    /// <summary>Re-reads activations.bin and compares its SHA-256 with store.json.</summary>
    public void VerifyActivations()
    {
        using var stream = new FileStream(System.IO.Path.Combine(Path, ActivationsFile), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (actual != Manifest.ActivationSha256)
            throw new InvalidInputException($"activation store {Path}: {ActivationsFile} is corrupted (SHA-256 {actual}, store.json records {Manifest.ActivationSha256}).");
    }

    /// <summary>
    /// Copies sequence <paramref name="index"/> ([T, d], converted to float32) into <paramref name="destination"/>.
    /// Each read maps only that sequence and unmaps it afterwards, so mapped pages never accumulate in the process.
    /// </summary>
    public unsafe void ReadSequence(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)NumSequences) throw new ArgumentOutOfRangeException(nameof(index));
        int count = ContextSize * DModel;
        if (destination.Length < count) throw new ArgumentException("destination is smaller than one sequence", nameof(destination));
        using MemoryMappedViewAccessor view = map.CreateViewAccessor(index * sequenceBytes, sequenceBytes, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            byte* start = pointer + view.PointerOffset;
            if (Dtype == ActivationDtype.Float32)
                new ReadOnlySpan<float>(start, count).CopyTo(destination);
            else
                ActivationDtypes.FromBFloat16(new ReadOnlySpan<ushort>(start, count), destination);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    /// <summary>
    /// One epoch of whole sequences, X [B, T, d], in an order shuffled by <paramref name="seed"/> (SplitMix64
    /// Fisher-Yates over sequence indices). Use a different seed per epoch. The last batch is smaller unless
    /// <paramref name="dropLast"/>.
    /// </summary>
    public IEnumerable<ActivationStoreBatch> SequenceBatches(int batchSize, long seed, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        int[] order = new SplitMix64((ulong)seed).Permutation(NumSequences);
        var scratch = new LabelScratch(Math.Min(batchSize, NumSequences) * ContextSize);
        for (int first = 0; first < order.Length; first += batchSize)
        {
            int count = Math.Min(batchSize, order.Length - first);
            if (count < batchSize && dropLast) yield break;
            var rows = new long[count * ContextSize];
            Tensor x = empty([count, ContextSize, DModel], ScalarType.Float32);
            ReadSequencesInto(x, order.AsSpan(first, count), rows);
            yield return MakeBatch(x, rows, [count, ContextSize], scratch);
        }
    }

    /// <summary>Reads whole sequences straight into <paramref name="x"/> [count, T, d] and records their rows.</summary>
    void ReadSequencesInto(Tensor x, ReadOnlySpan<int> sequences, long[] rows)
    {
        Span<float> values = MemoryMarshal.Cast<byte, float>(x.bytes);
        int perSequence = ContextSize * DModel;
        for (int b = 0; b < sequences.Length; b++)
        {
            ReadSequence(sequences[b], values.Slice(b * perSequence, perSequence));
            for (int t = 0; t < ContextSize; t++) rows[b * ContextSize + t] = (long)sequences[b] * ContextSize + t;
        }
    }

    /// <summary>
    /// One epoch of single tokens, X [N, d], every token exactly once. Shuffling without per-row random reads: the
    /// sequences are visited in a seeded random order, <paramref name="shuffleBufferTokens"/> tokens' worth of them
    /// (default 16 batches, rounded up to whole sequences) are copied into a buffer with one contiguous read each,
    /// and the buffer's rows are gathered, in a seeded random permutation, straight into the batch tensors. A batch
    /// thus mixes tokens of many random sequences from anywhere in the store, and memory stays at the buffer plus
    /// one batch. The last batch is smaller unless <paramref name="dropLast"/>.
    /// </summary>
    public IEnumerable<ActivationStoreBatch> TokenBatches(int batchSize, long seed, int shuffleBufferTokens = 0, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        if (shuffleBufferTokens <= 0) shuffleBufferTokens = 16 * batchSize;
        var random = new SplitMix64((ulong)seed);
        int[] order = random.Permutation(NumSequences);
        int sequencesPerBuffer = Math.Clamp((shuffleBufferTokens + ContextSize - 1) / ContextSize, 1, NumSequences);
        int perSequence = ContextSize * DModel;
        int width = (int)Math.Min(batchSize, NumTokens);
        using var buffer = new NativeFloatBuffer((long)sequencesPerBuffer * perSequence);
        long[] bufferRows = new long[sequencesPerBuffer * ContextSize];
        var scratch = new LabelScratch(width);
        Tensor? x = null;
        long[] rows = new long[width];
        int filled = 0;
        try
        {
            for (int first = 0; first < order.Length; first += sequencesPerBuffer)
            {
                int count = Math.Min(sequencesPerBuffer, order.Length - first);
                for (int s = 0; s < count; s++)
                {
                    ReadSequence(order[first + s], buffer.Slice((long)s * perSequence, perSequence));
                    for (int t = 0; t < ContextSize; t++) bufferRows[s * ContextSize + t] = (long)order[first + s] * ContextSize + t;
                }
                int[] permutation = random.Permutation(count * ContextSize);
                for (int next = 0; next < permutation.Length;)
                {
                    x ??= empty([width, DModel], ScalarType.Float32);
                    int take = Math.Min(width - filled, permutation.Length - next);
                    GatherRows(x, filled, buffer, permutation.AsSpan(next, take), bufferRows, rows);
                    filled += take;
                    next += take;
                    if (filled < width) continue;
                    Tensor full = x;
                    long[] fullRows = rows;
                    x = null;
                    rows = new long[width];
                    filled = 0;
                    yield return MakeBatch(full, fullRows, [width], scratch);
                }
            }
            if (filled > 0 && !dropLast)
            {
                // A view of the first rows: contiguous, and it keeps the storage alive after the full handle goes.
                Tensor part = x!.narrow(0, 0, filled);
                x.Dispose();
                x = null;
                yield return MakeBatch(part, rows[..filled], [filled], scratch);
            }
        }
        finally
        {
            // An enumeration abandoned mid-batch must not leave the half-filled tensor to the finaliser.
            x?.Dispose();
        }
    }

    /// <summary>Copies buffer rows <paramref name="picks"/> into rows [filled, filled + picks) of <paramref name="x"/> [N, d].</summary>
    void GatherRows(Tensor x, int filled, NativeFloatBuffer buffer, ReadOnlySpan<int> picks, long[] bufferRows, long[] rows)
    {
        Span<float> values = MemoryMarshal.Cast<byte, float>(x.bytes);
        int d = DModel;
        for (int i = 0; i < picks.Length; i++)
        {
            buffer.Slice((long)picks[i] * d, d).CopyTo(values.Slice((filled + i) * d, d));
            rows[filled + i] = bufferRows[picks[i]];
        }
    }

    /// <summary>
    /// The batch around <paramref name="x"/> with the label tensors of <paramref name="rows"/>; <paramref name="leading"/>
    /// is [B, T] or [N]. Every tensor is allocated by LibTorch and filled by copy: tensors over pinned managed arrays
    /// would pin garbage in the GC heap and make the process grow while streaming.
    /// </summary>
    ActivationStoreBatch MakeBatch(Tensor x, long[] rows, long[] leading, LabelScratch scratch)
    {
        Tensor Labels(Func<int, long> label)
        {
            for (int i = 0; i < rows.Length; i++) scratch.Column[i] = label((int)rows[i]);
            Tensor result = empty(leading, ScalarType.Int64);
            result.bytes = MemoryMarshal.AsBytes(scratch.Column.AsSpan(0, rows.Length));
            return result;
        }
        for (int i = 0; i < rows.Length; i++) scratch.Flags[i] = Metadata.Special[(int)rows[i]];
        Tensor special = empty(leading, ScalarType.Bool);
        special.bytes = MemoryMarshal.AsBytes(scratch.Flags.AsSpan(0, rows.Length));
        var batch = new ActivationBatch(x, Labels(r => Metadata.DocumentIds[r]), Labels(r => Metadata.SentenceIds[r]), special);
        return new ActivationStoreBatch(batch, Labels(r => Metadata.TokenIds[r]), Labels(r => Metadata.LabelIds[r]), Labels(r => Metadata.PosIds[r]), rows);
    }

    /// <summary>Per-epoch staging arrays for label columns, so batches allocate little more than their row indices.</summary>
    sealed class LabelScratch(int rows)
    {
        public long[] Column { get; } = new long[rows];
        public bool[] Flags { get; } = new bool[rows];
    }

    public void Dispose() => map.Dispose();
}
