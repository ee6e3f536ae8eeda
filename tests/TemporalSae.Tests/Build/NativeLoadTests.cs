using TemporalSae.Build;
using TorchSharp;

namespace TemporalSae.Tests.Build;

/// <summary>The build's fix for loading TorchSharp on Debian 12 (see build/ElfVersionPatch.cs).</summary>
public class NativeLoadTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string OutputLibrary => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    static string PackageLibrary
    {
        get
        {
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "torchsharp", TemporalSae.Infrastructure.TorchRuntime.TorchSharpVersion,
                "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    [Fact]
    public void TorchSharp_loads_and_computes()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());

        using var x = torch.tensor(new float[] { 3 }, requires_grad: true);
        using var y = (x * x).sum();
        y.backward();
        Assert.Equal(6f, x.grad!.item<float>());
    }

    [Fact]
    public void Output_copy_is_weak_and_package_cache_is_untouched()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.Equal(ElfVersionPatch.VerFlagWeak, ElfVersionPatch.ReadVersionFlags(OutputLibrary, Version)! & ElfVersionPatch.VerFlagWeak);
        if (File.Exists(PackageLibrary))
            Assert.Equal(0, ElfVersionPatch.ReadVersionFlags(PackageLibrary, Version)! & ElfVersionPatch.VerFlagWeak);
    }

    [Fact]
    public void Patch_is_idempotent_and_changes_only_the_flag_bytes()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(PackageLibrary)) return;
        string copy = Path.Combine(Path.GetTempPath(), $"elfpatch-{Guid.NewGuid():N}.so");
        File.Copy(PackageLibrary, copy);
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatch.MakeVersionWeak(copy, Version));
            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
            Assert.Single(changed); // one byte: the low byte of vna_flags
            Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatch.MakeVersionWeak(copy, Version));
            Assert.Equal(after, File.ReadAllBytes(copy));
            Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionPatch.MakeVersionWeak(copy, "GLIBCXX_99.0"));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Non_elf_file_is_rejected_with_its_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-elf-{Guid.NewGuid():N}.so");
        File.WriteAllText(path, "this is not an ELF file, but it is long enough to have a header of sixty-four bytes.");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatch.MakeVersionWeak(path, Version));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
