using System.Security.Cryptography;
using System.Text;

namespace TemporalSae.Infrastructure;

/// <summary>SHA-256 in lower-case hex: the one hash for cache keys, manifest hashes and artifact checksums.</summary>
public static class ContentHash
{
    public static string Of(string text) => Of(Encoding.UTF8.GetBytes(text));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>A 64-bit seed derived from a root seed and a stage name, stable across runs and machines.</summary>
    public static long DeriveSeed(long rootSeed, string stage)
    {
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{rootSeed}/{stage}"));
        return BitConverter.ToInt64(digest, 0) & long.MaxValue;
    }
}
