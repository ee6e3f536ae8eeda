// training.seed varies the SAE alone: a replicate shares every stage before the SAE with the run it replicates, and
// leaving the key at 0 keeps the SAE (and the manifest hash) a run had before the key existed.
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Training;

namespace TemporalSae.Tests.Training;

public class SaeSeedTests
{
    static readonly RunEnvironment Repository = RunEnvironment.ForRepository(RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory));

    static Dictionary<string, string> Keys(ExperimentConfig config)
    {
        var keys = new Dictionary<string, string>();
        foreach (Stage stage in Stages.For(Repository.Architectures).Resolve(["core"]))
            keys[stage.Name] = ExperimentRunner.KeyOf(stage, config, keys, Repository);
        return keys;
    }

    [Fact]
    public void A_replicate_shares_every_stage_before_the_sae_and_trains_another_sae()
    {
        string run0 = Path.Combine(Repository.RepositoryRoot, "experiments", "run0.yaml");
        LoadedManifest original = ManifestLoader.Load(run0);
        LoadedManifest replicate = ManifestLoader.Load(run0, ["training.seed=7"]);
        Dictionary<string, string> a = Keys(original.Config), b = Keys(replicate.Config);
        foreach (string shared in new[] { "data", "subject_model", "activations" }) Assert.Equal(a[shared], b[shared]);
        Assert.NotEqual(a["sae"], b["sae"]);
        Assert.NotEqual(a["core"], b["core"]);
        Assert.NotEqual(original.ManifestHash, replicate.ManifestHash);
        Assert.Equal(original.ManifestHash, ManifestLoader.Load(run0, ["training.seed=0"]).ManifestHash);
        Assert.DoesNotContain("seed: 0", original.CanonicalYaml.Split('\n').SkipWhile(l => l != "training:").Skip(1).TakeWhile(l => l.StartsWith(' ')));
    }

    [Fact]
    public void The_sae_seed_is_the_stage_seed_unless_a_replicate_sets_one()
    {
        var unset = new TrainingConfig();
        Assert.Equal(1234, SaeStage.SaeSeed(unset, 1234));
        long seven = SaeStage.SaeSeed(unset with { Seed = 7 }, 1234);
        Assert.Equal(seven, SaeStage.SaeSeed(unset with { Seed = 7 }, 99));  // the same replicate whatever the root seed
        Assert.NotEqual(seven, SaeStage.SaeSeed(unset with { Seed = 8 }, 1234));
        Assert.NotEqual(1234, seven);
    }
}
