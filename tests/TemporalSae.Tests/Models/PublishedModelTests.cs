// The committed built-in model: it must be the model experiments/subject-model.yaml trains as that manifest reads
// now, every shipped run must load it, and publishing refuses what it cannot do honestly.

using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Pipeline;

namespace TemporalSae.Tests.Models;

public class PublishedModelTests
{
    static readonly RunEnvironment Repository = RunEnvironment.ForRepository(RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory));
    static readonly string Manifest = Path.Combine(Repository.RepositoryRoot, "experiments", "subject-model.yaml");
    const string Folder = "models/tsae-gpt2-6x192";

    static string Published => Path.Combine(Repository.RepositoryRoot, Folder);

    [Fact]
    public void The_committed_model_is_what_the_current_subject_model_manifest_trains()
    {
        var record = PublishedModel.TryReadRecord(Published)!;
        Assert.NotNull(record);
        Assert.Equal("experiments/subject-model.yaml", record["manifest"]!.GetValue<string>());
        LoadedManifest manifest = ManifestLoader.Load(Manifest);
        string retrain = $"{Folder} came from another experiments/subject-model.yaml; train and publish it again: " +
                         $"dotnet build -t:RunExperiment -p:Exp=subject-model && tsae model publish experiments/subject-model.yaml --to {Folder}";
        // The weights are a function of the subject_model stage key (its configuration, its inputs' keys, the stage's
        // version); the manifest hash it records also covers the manifest's other sections, such as the hook.
        string key = PublishedModel.SubjectModelKey(Stages.For(Repository.Architectures), manifest.Config, Repository);
        Assert.True(key == record["subject_model_key"]!.GetValue<string>(), retrain);
        Assert.Matches("^[0-9a-f]{40}$", record["git_commit"]!.GetValue<string>());
        Assert.Equal(manifest.Config.Data.BpeVocab, record["data"]!["bpe_vocab"]!.GetValue<int>());
    }

    [Fact]
    public void Every_shipped_run_loads_the_committed_model_and_it_loads()
    {
        foreach (string name in ManifestLoader.ListExperiments(Path.Combine(Repository.RepositoryRoot, "experiments")))
        {
            ExperimentConfig config = ManifestLoader.Load(ManifestLoader.PathOf(Path.Combine(Repository.RepositoryRoot, "experiments"), name)).Config;
            if (name == "subject-model" || config.SubjectModel.Path.StartsWith("${", StringComparison.Ordinal)) continue;
            Assert.True(config.SubjectModel is { Kind: "gpt2", Path: Folder }, $"experiments/{name}.yaml does not load {Folder}");
        }
        using ISubjectModel model = SubjectModels.Load(Published, TorchSharp.torch.ScalarType.Float32);
        Assert.Equal(VocabMap.TryLoad(Published)!.Size, model.VocabSize);
        Assert.Equal((6, 192), (model.Layers, model.DModel));
    }

    [Fact]
    public void A_run_with_another_cut_of_the_bpe_than_the_model_was_trained_on_is_refused()
    {
        ExperimentConfig config = ManifestLoader.Load(Path.Combine(Repository.RepositoryRoot, "experiments", "run0.yaml")).Config;
        var wrong = config with { Data = config.Data with { BpeVocab = 50257 } };
        var error = Assert.Throws<InvalidInputException>(() => new SubjectModelStage().CheckInputs(wrong, Repository));
        Assert.Contains("data.bpe_vocab: 8191", error.Message);
    }

    [Fact]
    public void Publishing_needs_a_built_in_model_and_a_folder_inside_the_repository()
    {
        string run0 = Path.Combine(Repository.RepositoryRoot, "experiments", "run0.yaml");
        Assert.Contains("kind: builtin", Assert.Throws<InvalidInputException>(() => PublishedModel.Publish(run0, "models/x", Repository)).Message);
        Assert.Contains("inside the repository", Assert.Throws<InvalidInputException>(() => PublishedModel.Publish(Manifest, "../elsewhere", Repository)).Message);
    }
}
