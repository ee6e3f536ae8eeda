using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Manifests;

/// <summary>A temporary experiments folder for one test: write manifests, load them, capture their errors.</summary>
sealed class ManifestFolder : IDisposable
{
    readonly TempFolder folder = new("tsae-manifests-");

    public string Root => folder.Path;

    public string Write(string relativePath, string yaml)
    {
        string path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml);
        return path;
    }

    public LoadedManifest Load(string relativePath, params string[] overrides) =>
        ManifestLoader.Load(Path.Combine(Root, relativePath), overrides);

    /// <summary>The message of the InvalidInputException that loading throws; checks it is a message, not a trace.</summary>
    public string Error(string relativePath, params string[] overrides)
    {
        var e = Assert.Throws<InvalidInputException>(() => Load(relativePath, overrides));
        Assert.DoesNotContain("   at ", e.Message);
        Assert.DoesNotContain("Exception", e.Message);
        Assert.True(e.Message.Split('\n').Length <= 5, $"message longer than a few lines:\n{e.Message}");
        return e.Message;
    }

    public void Dispose() => folder.Dispose();
}
