// The smoke profile (experiments/profiles/smoke.yaml): merged over the resolved manifest, it shrinks sizes and keeps
// what a snapshot must cover; it is never listed as a run.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Tests.Manifests;

namespace TemporalSae.Tests.Snapshots;

public sealed class SmokeProfileTests
{
    static readonly string Experiments = Path.Combine(RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory), "experiments");

    public static TheoryData<string> Runs() => new(ManifestLoader.ListExperiments(Experiments));

    [Theory]
    [MemberData(nameof(Runs))]
    public void Profile_shrinks_sizes_and_keeps_the_architecture_temporal_settings_stages_and_seed(string name)
    {
        string path = ManifestLoader.PathOf(Experiments, name);
        ExperimentConfig plain = ManifestLoader.Load(path).Config;
        ExperimentConfig smoke = ManifestLoader.Load(path, profilePath: ManifestProfiles.PathOf(path, SmokeSnapshotTests.Profile)).Config;

        Assert.Equal(plain.Name, smoke.Name);
        Assert.Equal(plain.Seed, smoke.Seed);
        Assert.Equal(plain.Stages, smoke.Stages);
        Assert.Equal(plain.SubjectModel.Kind, smoke.SubjectModel.Kind);
        Assert.Equal(plain.Sae.Architecture, smoke.Sae.Architecture);
        Assert.Equal(plain.Sae.K, smoke.Sae.K);
        Assert.Equal(CanonicalManifest.ToJson(plain)["sae"]!["temporal"]!.ToJsonString(), CanonicalManifest.ToJson(smoke)["sae"]!["temporal"]!.ToJsonString());
        Assert.Equal(plain.Training.L1Coefficient, smoke.Training.L1Coefficient);
        Assert.True(smoke.Sae.DSae <= plain.Sae.DSae && smoke.Training.Tokens <= plain.Training.Tokens);
        Assert.True(smoke.SubjectModel.Builtin.Steps <= plain.SubjectModel.Builtin.Steps);
    }

    [Fact]
    public void Profiles_are_not_runs()
    {
        Assert.DoesNotContain(SmokeSnapshotTests.Profile, ManifestLoader.ListExperiments(Experiments));
        Assert.DoesNotContain(ManifestProfiles.FolderName, ManifestLoader.ListExperiments(Experiments));
        Assert.Throws<InvalidInputException>(() => ManifestLoader.PathOf(Experiments, SmokeSnapshotTests.Profile));
    }

    [Fact]
    public void Profile_merges_over_the_extends_chain_and_before_set_overrides()
    {
        using var folder = new ManifestFolder();
        folder.Write("_base.yaml", "seed: 1\nsae: {d_sae: 4096, architecture: topk, k: 8}\n");
        folder.Write("run.yaml", "extends: _base.yaml\nsae: {d_sae: 2048}\n");
        folder.Write("profiles/tiny.yaml", "sae: {d_sae: 64}\n");
        string run = Path.Combine(folder.Root, "run.yaml");

        var config = ManifestLoader.Load(run, profilePath: ManifestProfiles.PathOf(run, "tiny")).Config;
        Assert.Equal(64, config.Sae.DSae);
        Assert.Equal("topk", config.Sae.Architecture);
        Assert.Equal(8, config.Sae.K);
        Assert.Equal(32, ManifestLoader.Load(run, ["sae.d_sae=32"], ManifestProfiles.PathOf(run, "tiny")).Config.Sae.DSae);
    }

    [Fact]
    public void Profile_may_not_set_extends_or_name_and_an_unknown_profile_lists_the_available_ones()
    {
        using var folder = new ManifestFolder();
        folder.Write("run.yaml", "seed: 1\n");
        folder.Write("profiles/named.yaml", "name: other\n");
        folder.Write("profiles/tiny.yaml", "sae: {d_sae: 64}\n");
        string run = Path.Combine(folder.Root, "run.yaml");

        var named = Assert.Throws<InvalidInputException>(() => ManifestLoader.Load(run, profilePath: ManifestProfiles.PathOf(run, "named")));
        Assert.Contains("`name` is set in a profile", named.Message);
        var unknown = Assert.Throws<InvalidInputException>(() => ManifestProfiles.PathOf(run, "tinny"));
        Assert.Contains("Available: named, tiny.", unknown.Message);
    }
}
