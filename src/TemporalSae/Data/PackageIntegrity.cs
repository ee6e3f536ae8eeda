// npm's Subresource-Integrity strings: "sha512-" + base64(SHA-512(tarball)), as in package-lock.json.

using System.Security.Cryptography;
using TemporalSae.Infrastructure;

namespace TemporalSae.Data;

/// <summary>Computes and checks npm integrity strings of downloaded tarballs.</summary>
public static class PackageIntegrity
{
    public static string Of(Stream stream) => "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));

    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Of(stream);
    }

    /// <summary>Throws when the tarball's integrity differs from the pinned one, naming both values.</summary>
    public static void Verify(PinnedPackage package, string tarballPath)
    {
        string actual = OfFile(tarballPath);
        if (!string.Equals(actual, package.Integrity, StringComparison.Ordinal))
            throw new InvalidInputException(
                $"integrity mismatch for npm package {package.Spec} ({tarballPath}): expected {package.Integrity}, " +
                $"actual {actual}. The download is corrupt or not the pinned release; delete the file and run again.");
    }
}
