// A trained built-in model published as a committed Hugging Face GPT-2 checkpoint folder (config.json,
// model.safetensors, vocab_map.json) with provenance.json: the manifest that trained it, the hash of that manifest
// resolved (as results record it), the subject_model stage key of its configuration (what the weights depend on) and
// the commit of the code that trained it. Runs then load the
// model through the ordinary checkpoint loader, and a test compares the record with the manifest as it is now.
using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models.BuiltinLm;
using TemporalSae.Pipeline;
using TemporalSae.Results;

namespace TemporalSae.Models;

public static class PublishedModel
{
    public const string RecordFile = "provenance.json";

    /// <summary>Files copied from the built-in model's cached checkpoint.</summary>
    static readonly string[] CheckpointFiles = [SubjectModels.ConfigFileName, "model.safetensors", VocabMap.FileName];

    /// <summary>
    /// Copies the cached built-in model of <paramref name="manifestPath"/> into <paramref name="target"/> (replacing
    /// what was there only once the new folder is complete) and returns the provenance record written beside it.
    /// </summary>
    public static JsonObject Publish(string manifestPath, string target, RunEnvironment environment)
    {
        LoadedManifest manifest = ManifestLoader.Load(manifestPath);
        ExperimentConfig config = manifest.Config;
        if (config.SubjectModel.Kind != "builtin")
            throw new InvalidInputException(
                $"{manifest.Path}: subject_model.kind is {config.SubjectModel.Kind}; only a manifest that trains the built-in model (kind: builtin) can be published");

        string fullTarget = Path.GetFullPath(target, environment.RepositoryRoot);
        if (!ManifestLoader.IsInside(fullTarget, environment.RepositoryRoot))
            throw new InvalidInputException($"--to {target}: the published model must go inside the repository ({environment.RepositoryRoot})");

        StageRegistry registry = Stages.For(environment.Architectures);
        string key = SubjectModelKey(registry, config, environment);
        string artifact = ExperimentRunner.ArtifactFolder(registry, environment, config, "subject_model")
            ?? throw new InvalidInputException(
                $"{manifest.Path}: its built-in model is not in the cache ({environment.CacheRoot}); train it first: dotnet build -t:RunExperiment -p:Exp={config.Name}");
        JsonObject training = TrainingRun(config, key, environment);

        var record = new JsonObject
        {
            ["manifest"] = Path.GetRelativePath(environment.RepositoryRoot, manifest.Path).Replace('\\', '/'),
            ["manifest_hash"] = manifest.ManifestHash,
            ["subject_model_key"] = key,
            ["git_commit"] = training["git_commit"]!.DeepClone(),
            ["data"] = new JsonObject
            {
                ["sources"] = new JsonArray(config.Data.Sources.Select(s => (JsonNode)s).ToArray()),
                ["bpe_vocab"] = config.Data.BpeVocab,
            },
            ["tokenizer"] = $"the GPT-2 byte-level BPE cut to its first {config.Data.BpeVocab} ids (data.bpe_vocab), then {VocabMap.FileName} from GPT-2 ids to model ids",
            ["training"] = training["summary"]!.DeepClone(),
        };

        string staging = fullTarget + ".publishing";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        foreach (string file in CheckpointFiles)
            File.Copy(Path.Combine(artifact, SubjectModelStage.ModelFolder, file), Path.Combine(staging, file));
        AtomicFile.WriteAllText(Path.Combine(staging, RecordFile), ResultJson.Serialize(record));
        using (SubjectModels.Load(staging, TorchSharp.torch.ScalarType.Float32)) { } // the folder must load before it replaces anything

        string old = fullTarget + ".replaced";
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(fullTarget)) Directory.Move(fullTarget, old);
        Directory.Move(staging, fullTarget);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        return record;
    }

    /// <summary>The folder under models/ whose record says it was published from subject_model stage key <paramref name="key"/>, or null.</summary>
    public static string? FindByKey(string repositoryRoot, string key)
    {
        string models = Path.Combine(repositoryRoot, "models");
        if (key.Length == 0 || !Directory.Exists(models)) return null;
        return Directory.EnumerateDirectories(models).Order(StringComparer.Ordinal)
            .FirstOrDefault(folder => TryReadRecord(folder)?["subject_model_key"]?.GetValue<string>() == key);
    }

    /// <summary>
    /// Builds the subject_model artifact of a built-in model from the published folder trained with the same key: its
    /// checkpoint files, and as summary the training summary the record kept. The build record names the folder and the
    /// commit that trained it, so a result says the model was taken, not trained, by this run.
    /// </summary>
    public static JsonObject CopyInto(string published, string modelFolder, StageContext context)
    {
        JsonObject record = TryReadRecord(published)!;
        Directory.CreateDirectory(modelFolder);
        foreach (string file in CheckpointFiles)
            File.Copy(Path.Combine(published, file), Path.Combine(modelFolder, file));
        using (SubjectModels.Load(modelFolder, TorchSharp.torch.ScalarType.Float32)) { } // a damaged copy fails here, not in a later stage
        string relative = Path.GetRelativePath(context.Environment.RepositoryRoot, published).Replace('\\', '/');
        context.Measurements["published_model"] = new JsonObject
        {
            ["folder"] = relative,
            ["trained_at_commit"] = record["git_commit"]!.DeepClone(),
        };
        context.Log.WriteLine($"[subject_model] {relative} was published from this stage key; taking it instead of training (--retrain-subject-model trains)");
        return (JsonObject)record["training"]!.DeepClone();
    }

    /// <summary>The provenance record of a published checkpoint folder, or null for a folder that has none.</summary>
    public static JsonObject? TryReadRecord(string checkpoint)
    {
        string path = Path.Combine(checkpoint, RecordFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidInputException($"'{path}' must hold a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidInputException($"'{path}' is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The subject_model stage key of a configuration: what the trained weights depend on.</summary>
    public static string SubjectModelKey(StageRegistry registry, ExperimentConfig config, RunEnvironment environment)
    {
        var keys = new Dictionary<string, string>();
        foreach (Stage stage in registry.Resolve(["subject_model"]))
            keys[stage.Name] = ExperimentRunner.KeyOf(stage, config, keys, environment);
        return keys["subject_model"];
    }

    /// <summary>The commit and training summary from the result of the run that trained the model with this key.</summary>
    static JsonObject TrainingRun(ExperimentConfig config, string key, RunEnvironment environment)
    {
        string path = Path.Combine(environment.ResultsFolder, config.Name + ".json");
        string rerun = $"run it again (dotnet build -t:RunExperiment -p:Exp={config.Name}) so that its result records the training run";
        if (!File.Exists(path)) throw new InvalidInputException($"{path} does not exist; {rerun}");
        JsonNode result = JsonNode.Parse(File.ReadAllText(path))!;
        JsonNode? stage = result["provenance"]?["stages"]?["subject_model"];
        if (stage?["cache_key"]?.GetValue<string>() != key)
            throw new InvalidInputException($"{path} was written by a run of another subject_model configuration; {rerun}");
        if (stage["build"]?["published_model"] is not null)
            throw new InvalidInputException(
                $"{path} took its model from {stage["build"]!["published_model"]!["folder"]}, which is published already; to publish a new training run, {rerun} with --retrain-subject-model");
        if (stage["from_cache"]?.GetValue<bool>() != false)
            throw new InvalidInputException(
                $"{path} reused a cached model, so its commit is not the one that trained it; remove the subject_model artifact from the cache and {rerun}");
        return new JsonObject
        {
            ["git_commit"] = result["provenance"]!["git_commit"]!.DeepClone(),
            ["summary"] = result["stages"]!["subject_model"]!.DeepClone(),
        };
    }
}
