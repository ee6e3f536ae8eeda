// What every evaluation stage shares: its summary goes under "evals", it reads the data, the subject model and the
// trained SAE, and its cache key holds the hook, its own `evals.<name>` section and the context size.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;

namespace TemporalSae.Evals;

public abstract class EvalStage : Stage
{
    public override string ResultSection => "evals";
    public override IReadOnlyList<string> DependsOn => ["data", "subject_model", "sae"];
    public override int Version => 1;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject key = Sections(config, "activations");
        key[Name] = Sections(config, "evals")["evals"]![Name]!.DeepClone();
        key["context_size"] = config.Data.ContextSize;
        return key;
    }
}
