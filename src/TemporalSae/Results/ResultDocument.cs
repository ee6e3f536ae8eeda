using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Results;

/// <summary>
/// The layout of results/&lt;experiment&gt;.json. Everything but "provenance" is a deterministic function of the
/// manifest, the code and the thread count; provenance (times, machine, versions) is ignored by diffs and snapshots.
/// </summary>
public static class ResultDocument
{
    /// <summary>Bumped when the layout of result documents changes.</summary>
    public const int SchemaVersion = 1;

    public const string ProvenanceKey = "provenance";

    public static JsonObject Build(ExperimentSpec spec, IEnumerable<(Stage Stage, JsonObject Summary)> summaries, JsonObject provenance)
    {
        var stages = new JsonObject();
        var evals = new JsonObject();
        foreach (var (stage, summary) in summaries)
            (stage.ResultSection == "evals" ? evals : stages)[stage.Name] = summary;

        return new JsonObject
        {
            ["schema_version"] = SchemaVersion,
            ["experiment"] = new JsonObject
            {
                ["name"] = spec.Config.Name,
                ["title"] = spec.Config.Title,
                ["description"] = spec.Config.Description,
                ["manifest"] = spec.ManifestPath,
                ["manifest_hash"] = spec.ManifestHash,
            },
            ["config"] = CanonicalManifest.ToJson(spec.Config),
            ["stages"] = stages,
            ["evals"] = evals,
            [ProvenanceKey] = provenance,
        };
    }

    /// <summary>The document without its provenance block: what diffs, snapshots and determinism checks compare.</summary>
    public static JsonObject WithoutProvenance(JsonObject document)
    {
        var copy = document.DeepClone().AsObject();
        copy.Remove(ProvenanceKey);
        return copy;
    }
}
