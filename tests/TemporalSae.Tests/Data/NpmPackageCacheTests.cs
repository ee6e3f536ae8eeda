// Fetch layer without the network: a tarball placed in the cache is integrity-checked before it is unpacked, and
// unpacked files are re-verified on every later read.

using System.Formats.Tar;
using System.IO.Compression;
using TemporalSae.Pipeline;
using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Infrastructure;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Data;

public sealed class NpmPackageCacheTests : IDisposable
{
    readonly TempFolder folder = new("tsae-npm-");

    public void Dispose() => folder.Dispose();

    /// <summary>Writes an npm-style tarball (entries under package/) and returns its integrity string.</summary>
    string WriteTarball(string name, params (string Path, string Text)[] files)
    {
        string path = Path.Combine(folder, name);
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
            foreach ((string entry, string text) in files)
            {
                var item = new PaxTarEntry(TarEntryType.RegularFile, entry) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(item);
            }
        return PackageIntegrity.OfFile(path);
    }

    [Fact]
    public void Integrity_mismatch_names_package_expected_and_actual_and_unpacks_nothing()
    {
        var package = new PinnedPackage("fake-pkg", "1.0.0", "sha512-AAAA");
        string actual = WriteTarball(package.TarballName, ("package/cats.txt", "ca01 news\n"));
        var error = Assert.Throws<InvalidInputException>(() => new NpmPackageCache(folder).Ensure(package));
        Assert.Contains("fake-pkg@1.0.0", error.Message);
        Assert.Contains("expected sha512-AAAA", error.Message);
        Assert.Contains($"actual {actual}", error.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, package.FolderName)));
    }

    [Fact]
    public void Verified_tarball_is_unpacked_and_later_alteration_is_detected()
    {
        string integrity = WriteTarball("fake-pkg-1.0.0.tgz", ("package/cats.txt", "ca01 news\n"), ("package/sub/ca01", "\tHi/uh ./.\n"));
        var package = new PinnedPackage("fake-pkg", "1.0.0", integrity);
        var cache = new NpmPackageCache(folder);
        string unpacked = cache.Ensure(package);
        Assert.Equal("ca01 news\n", File.ReadAllText(Path.Combine(unpacked, "cats.txt")));
        Assert.Equal(unpacked, cache.Ensure(package));
        Assert.Empty(Directory.GetDirectories(folder, ".tmp-*"));

        File.AppendAllText(Path.Combine(unpacked, "sub", "ca01"), "extra");
        var error = Assert.Throws<InvalidInputException>(() => cache.Ensure(package));
        Assert.Contains("altered", error.Message);
    }

    [Fact]
    public void Concurrent_fetches_of_the_same_package_all_get_one_verified_folder()
    {
        string integrity = WriteTarball("fake-pkg-1.0.0.tgz", ("package/cats.txt", "ca01 news\n"), ("package/ca01", "\tHi/uh ./.\n"));
        var package = new PinnedPackage("fake-pkg", "1.0.0", integrity);
        string[] folders = new string[8];
        Parallel.For(0, folders.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => folders[i] = new NpmPackageCache(folder).Ensure(package));
        Assert.Single(folders.Distinct());
        Assert.Empty(Directory.GetDirectories(folder, ".tmp-*"));
        NpmPackageCache.VerifyUnpacked(package, folders[0]);
    }

    [Fact]
    public void Entries_escaping_the_folder_are_refused()
    {
        string integrity = WriteTarball("evil-1.0.0.tgz", ("package/../../escape.txt", "x"));
        var error = Assert.Throws<InvalidInputException>(() => new NpmPackageCache(folder).Ensure(new PinnedPackage("evil", "1.0.0", integrity)));
        Assert.Contains("outside", error.Message);
    }

    [Fact]
    public void Folder_source_without_the_files_explains_what_it_needs()
    {
        var error = Assert.Throws<InvalidInputException>(() => DataFiles.FromFolder(folder));
        Assert.Contains("cats.txt", error.Message);
    }

    [Fact]
    public void Real_packages_match_their_pinned_integrity()
    {
        string npm = Path.Combine(RunEnvironment.ForCurrentDirectory().CacheRoot, "npm");
        _ = BrownData.Data;
        foreach (PinnedPackage package in new[] { PinnedPackage.BrownCorpus, PinnedPackage.Gpt2Encoder })
        {
            Assert.Equal(package.Integrity, PackageIntegrity.OfFile(Path.Combine(npm, package.TarballName)));
            NpmPackageCache.VerifyUnpacked(package, Path.Combine(npm, package.FolderName));
        }
    }
}
