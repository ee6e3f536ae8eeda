// The data stage: resolve and verify the input files, tokenise the corpus (or load the cached tokenisation), split.

using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Data;

/// <summary>The data stage's result: the tokenised corpus, each document's split, and where it was cached.</summary>
public sealed record PreparedData(TokenizedCorpus Corpus, Split[] Splits, DataFiles Files, string CachePath, bool FromCache)
{
    public TokenMetadata Stream(Split split) => Corpus.Stream(Splits, split);

    public ContextWindows Windows(Split split, int contextSize) => ContextWindows.Cut(Stream(split), contextSize);
}

public static class DataStage
{
    /// <summary>Bumped whenever text rebuilding, tokenisation or the token-to-word rule changes, so caches are rebuilt.</summary>
    public const int PipelineVersion = 1;

    /// <summary>
    /// Tokenised corpus cached at &lt;cacheRoot&gt;/data/brown-gpt2-&lt;key&gt;.tokens, keyed by the input files'
    /// contents and <see cref="PipelineVersion"/>; the split (cheap) is recomputed from the seed every time, with the
    /// seed derived from <paramref name="rootSeed"/> and "data/split".
    /// </summary>
    public static PreparedData Prepare(DataConfig config, long rootSeed, string cacheRoot, TextWriter? log = null)
    {
        DataFiles files = DataFiles.Resolve(config, cacheRoot);
        string key = ContentHash.Of($"{files.ContentKey()}/pipeline-{PipelineVersion}/format-{TokenizedCorpusFile.FormatVersion}");
        string cachePath = Path.Combine(cacheRoot, "data", $"brown-gpt2-{key[..16]}.tokens");
        TokenizedCorpus? corpus = null;
        bool fromCache = false;
        if (File.Exists(cachePath))
        {
            try
            {
                corpus = TokenizedCorpus.Load(cachePath);
                fromCache = true;
            }
            catch (InvalidInputException e)
            {
                log?.WriteLine($"warning: cached tokens unusable, rebuilding: {e.Message}");
            }
        }
        if (corpus is null)
        {
            corpus = TokenizedCorpus.Tokenize(BrownCorpus.Load(files.CorpusFolder), Gpt2Tokenizer.Load(files), key);
            corpus.Save(cachePath);
        }
        Split[] splits = corpus.AssignSplits(config.TrainFraction, config.ValFraction, ContentHash.DeriveSeed(rootSeed, "data/split"));
        return new PreparedData(corpus, splits, files, cachePath, fromCache);
    }
}
