using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Results;

namespace TemporalSae.Tests.Results;

/// <summary>Every committed result must come from its current manifest, and read back in the canonical form.</summary>
public class CommittedResultsTests
{
    static readonly string Root = RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory);

    public static TheoryData<string> ResultFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(Root, "results"), "*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(ResultFiles))]
    public void Result_matches_its_current_manifest(string file)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "results", file)))!.AsObject();
        string name = Path.GetFileNameWithoutExtension(file);
        string manifest = Path.Combine(Root, "experiments", $"{name}.yaml");
        Assert.True(File.Exists(manifest), $"results/{file} has no manifest experiments/{name}.yaml; delete the result or restore the manifest");
        string current = ManifestLoader.Load(manifest).ManifestHash;
        string recorded = document["experiment"]!["manifest_hash"]!.GetValue<string>();
        Assert.True(current == recorded,
            $"results/{file} is stale: it came from a manifest with hash {recorded[..12]}, the current one is {current[..12]}. " +
            $"Re-run it: dotnet build -t:RunExperiment -p:Exp={name}");
        Assert.Equal(ResultDocument.SchemaVersion, document["schema_version"]!.GetValue<int>());
    }

    [Theory]
    [MemberData(nameof(ResultFiles))]
    public void A_result_on_a_committed_model_records_that_models_current_provenance(string file)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "results", file)))!.AsObject();
        if (document["stages"]?["subject_model"]?["published"] is not JsonObject recorded) return;
        var config = ManifestLoader.Load(Path.Combine(Root, "experiments", file.Replace(".json", ".yaml"))).Config;
        string provenance = Path.Combine(Root, config.SubjectModel.Path, TemporalSae.Models.PublishedModel.RecordFile);
        Assert.True(File.Exists(provenance), $"results/{file} records a published model, but {provenance} does not exist");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(provenance)), recorded),
            $"results/{file} studied a model whose provenance is not the one committed in {config.SubjectModel.Path}; " +
            $"re-run it: dotnet build -t:RunExperiment -p:Exp={Path.GetFileNameWithoutExtension(file)}");
    }

    [Theory]
    [MemberData(nameof(ResultFiles))]
    public void Result_is_in_canonical_form(string file)
    {
        string text = File.ReadAllText(Path.Combine(Root, "results", file));
        Assert.Equal(ResultJson.Serialize(JsonNode.Parse(text)!), text);
    }
}
