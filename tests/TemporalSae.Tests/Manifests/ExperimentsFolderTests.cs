using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

// Every manifest checked into experiments/ (bases included) must validate, so a broken manifest fails CI rather
// than a run.

public sealed class ExperimentsFolderTests
{
    static string ExperimentsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TemporalSae.sln"))) return Path.Combine(dir.FullName, "experiments");
        throw new InvalidOperationException($"TemporalSae.sln not found above {AppContext.BaseDirectory}");
    }

    public static TheoryData<string> Manifests()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(ExperimentsFolder(), "*.y*ml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Manifest_validates(string file)
    {
        var manifest = ManifestLoader.Load(Path.Combine(ExperimentsFolder(), file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), manifest.Config.Name);
    }

    [Fact]
    public void The_data_only_run_extends_the_base_and_runs_only_the_data_stage()
    {
        var manifest = ManifestLoader.Load(Path.Combine(ExperimentsFolder(), "data-only.yaml"));
        Assert.Equal(["data"], manifest.Config.Stages);
        Assert.Equal(2, manifest.Files.Count);
        Assert.Contains("data-only", ManifestLoader.ListExperiments(ExperimentsFolder()));
        Assert.DoesNotContain("_base", ManifestLoader.ListExperiments(ExperimentsFolder()));
    }
}
