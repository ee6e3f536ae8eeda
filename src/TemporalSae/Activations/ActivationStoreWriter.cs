// Writes an activation store: resid_post batches streamed to disk as they are computed, published atomically.

using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Activations;

/// <summary>
/// Appends [B, T, d] activation batches with their per-token metadata into a temporary folder beside the target and
/// publishes it with <see cref="Complete"/>: data files first, store.json (sizes and SHA-256 of both files) last,
/// then a rename of the folder. Disposing without completing deletes the temporary folder, so an interrupted run
/// never leaves something that opens as a store. Activations go straight to disk; only the metadata
/// (17 bytes per token) is held in memory until completion.
/// </summary>
public sealed class ActivationStoreWriter : IDisposable
{
    readonly string path;
    readonly string staging;
    readonly FileStream activations;
    readonly IncrementalHash activationHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly List<TokenMetadata> metadata = [];
    readonly IReadOnlyList<string> labels;
    readonly IReadOnlyList<string> posTags;
    byte[] encodeBuffer = [];
    bool completed;

    ActivationStoreWriter(string path, int dModel, int contextSize, ActivationDtype dtype, IReadOnlyList<string> labels, IReadOnlyList<string> posTags)
    {
        this.path = Path.GetFullPath(path);
        DModel = dModel;
        ContextSize = contextSize;
        Dtype = dtype;
        this.labels = labels;
        this.posTags = posTags;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        staging = AtomicFile.TempPathFor(path);
        Directory.CreateDirectory(staging);
        activations = new FileStream(Path.Combine(staging, ActivationStore.ActivationsFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public int DModel { get; }
    public int ContextSize { get; }
    public ActivationDtype Dtype { get; }
    public long NumSequences { get; private set; }

    /// <summary>Starts a store at <paramref name="path"/> (a folder); label and POS names label the metadata ids.</summary>
    public static ActivationStoreWriter Create(string path, int dModel, int contextSize, ActivationDtype dtype,
        IReadOnlyList<string>? labels = null, IReadOnlyList<string>? posTags = null)
    {
        if (dModel < 1) throw new ArgumentOutOfRangeException(nameof(dModel), "d_model must be positive");
        if (contextSize < 1) throw new ArgumentOutOfRangeException(nameof(contextSize), "context size must be positive");
        return new ActivationStoreWriter(path, dModel, contextSize, dtype, labels ?? [], posTags ?? []);
    }

    /// <summary>
    /// Appends <paramref name="resid"/> [B, T, d] (any floating dtype and device; stored in <see cref="Dtype"/>) and the
    /// metadata of its B*T tokens in the same row-major order. Non-finite activations fail the run: they would
    /// silently poison every SAE trained on the store.
    /// </summary>
    public void Append(Tensor resid, TokenMetadata metadata)
    {
        if (completed) throw new InvalidOperationException("the store is already complete");
        if (resid.dim() != 3 || resid.shape[1] != ContextSize || resid.shape[2] != DModel)
            throw new ArgumentException($"expected resid [B, {ContextSize}, {DModel}], got [{string.Join(", ", resid.shape)}]", nameof(resid));
        if (!resid.is_floating_point()) throw new ArgumentException($"resid must be floating point, got {resid.dtype}", nameof(resid));
        long batch = resid.shape[0];
        if (metadata.Count != batch * ContextSize)
            throw new ArgumentException($"metadata has {metadata.Count} tokens, resid has {batch * ContextSize}", nameof(metadata));

        using var scope = NewDisposeScope();
        Tensor cpu = resid.detach().to(ScalarType.Float32, CPU).contiguous(); // [B, T, d]
        if (!cpu.isfinite().all().item<bool>())
            throw new RunFailedException($"activations appended to {path} contain NaN or Inf (batch {NumSequences / Math.Max(1, batch)}); the subject model's forward pass diverged.");
        ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(cpu.bytes);
        ReadOnlySpan<byte> encoded;
        if (Dtype == ActivationDtype.Float32)
        {
            encoded = MemoryMarshal.AsBytes(values);
        }
        else
        {
            if (encodeBuffer.Length < values.Length * 2) encodeBuffer = new byte[values.Length * 2];
            Span<ushort> half = MemoryMarshal.Cast<byte, ushort>(encodeBuffer.AsSpan(0, values.Length * 2));
            ActivationDtypes.ToBFloat16(values, half);
            encoded = MemoryMarshal.AsBytes(half);
        }
        activations.Write(encoded);
        activationHash.AppendData(encoded);
        this.metadata.Add(metadata.Slice(0, metadata.Count));
        NumSequences += batch;
    }

    /// <summary>Writes tokens.bin and store.json, then publishes the folder at the target path (replacing an older store).</summary>
    public ActivationStoreManifest Complete()
    {
        if (completed) throw new InvalidOperationException("the store is already complete");
        if (NumSequences == 0) throw new RunFailedException($"no activations were appended to {path}; an empty store cannot train anything.");
        activations.Flush(flushToDisk: true);
        long activationBytes = activations.Length;
        activations.Dispose();
        string activationSha = Convert.ToHexStringLower(activationHash.GetHashAndReset());

        string tokensPath = Path.Combine(staging, ActivationStore.TokensFile);
        string tokenSha;
        long tokenBytes;
        using (var tokens = new FileStream(tokensPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            void Column<T>(Func<TokenMetadata, T[]> column) where T : unmanaged
            {
                foreach (TokenMetadata part in metadata)
                {
                    ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(column(part).AsSpan());
                    tokens.Write(bytes);
                    hash.AppendData(bytes);
                }
            }
            Column(m => m.TokenIds);
            Column(m => m.DocumentIds);
            Column(m => m.SentenceIds);
            Column(m => m.LabelIds);
            Column(m => m.PosIds);
            Column(m => m.Special);
            tokens.Flush(flushToDisk: true);
            tokenBytes = tokens.Length;
            tokenSha = Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        var manifest = new ActivationStoreManifest(ActivationStoreManifest.CurrentFormatVersion, Dtype.Name(), DModel, ContextSize, NumSequences,
            activationBytes, activationSha, tokenBytes, tokenSha, labels, posTags);
        AtomicFile.WriteAllText(Path.Combine(staging, ActivationStoreManifest.FileName), manifest.ToJson());
        Publish();
        completed = true;
        return manifest;
    }

    void Publish()
    {
        if (!Directory.Exists(path))
        {
            Directory.Move(staging, path);
            return;
        }
        // Directories cannot be renamed over each other: move the old store aside first, then drop it.
        string old = $"{path}.old-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.Move(path, old);
        Directory.Move(staging, path);
        Directory.Delete(old, recursive: true);
    }

    public void Dispose()
    {
        activations.Dispose();
        activationHash.Dispose();
        if (!completed && Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
    }
}
