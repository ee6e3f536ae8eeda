// store.json of an activation store: shapes, dtype, file sizes and SHA-256 checksums, token label names.

using System.Text.Json;
using System.Text.Json.Serialization;
using TemporalSae.Infrastructure;

namespace TemporalSae.Activations;

/// <summary>
/// Describes the two data files of a store: activations.bin ([NumSequences, ContextSize, DModel] row-major in
/// <see cref="Dtype"/>, little-endian) and tokens.bin (per-token columns, see <see cref="ActivationStore"/>).
/// Label and POS names let evaluations read the ids in tokens.bin.
/// </summary>
public sealed record ActivationStoreManifest(
    int FormatVersion,
    string Dtype,
    int DModel,
    int ContextSize,
    long NumSequences,
    long ActivationBytes,
    string ActivationSha256,
    long TokenBytes,
    string TokenSha256,
    IReadOnlyList<string> Labels,
    IReadOnlyList<string> PosTags)
{
    public const int CurrentFormatVersion = 2;
    public const string FileName = "store.json";

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options) + "\n";

    public static ActivationStoreManifest Read(string storePath)
    {
        string path = Path.Combine(storePath, FileName);
        if (!File.Exists(path))
            throw new InvalidInputException($"{storePath} is not a complete activation store: {FileName} is missing (an interrupted run never publishes one).");
        try
        {
            return JsonSerializer.Deserialize<ActivationStoreManifest>(File.ReadAllText(path), Options)
                ?? throw new InvalidInputException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path} is not a valid activation store manifest: {e.Message}");
        }
    }
}
