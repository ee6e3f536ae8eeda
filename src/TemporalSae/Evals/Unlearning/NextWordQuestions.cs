// Four-choice next-word questions for the unlearning evaluation (SAEBench's unlearning, on open data): a prompt of
// held-out text, the word that follows it, and three distractors of the same part of speech. Built from token metadata
// alone, deterministically for a seed.
//
// A token starts a word when the token before it carries another POS tag (tokens of one word share their word's tag),
// is special, or lies in another sentence; positions where that cannot be told are never used. Answers are content
// words (NOUN, VERB, ADJ, ADV), where what a model knows of a genre shows. Distractors come from the most frequent
// word-initial tokens of the answer's class in the training split.
using TemporalSae.Data;
using TemporalSae.Data.Sources;

namespace TemporalSae.Evals.Unlearning;

/// <summary>One question: prompt tokens (with metadata, starting with the BOS), and four corpus token ids, the answer first.</summary>
public sealed record NextWordQuestion(int Genre, TokenMetadata Prompt, int[] Choices);

public static class NextWordQuestions
{
    public static readonly IReadOnlyList<string> AnswerClasses = ["NOUN", "VERB", "ADJ", "ADV"];

    /// <summary>Most frequent word-initial tokens per class that distractors are drawn from.</summary>
    public const int DistractorPool = 200;

    /// <param name="test">The held-out stream questions come from.</param>
    /// <param name="train">The training stream distractors come from.</param>
    /// <param name="posTags">The corpus' Brown tags by POS id.</param>
    /// <param name="inVocabulary">Whether the subject model has its own id for a corpus token id.</param>
    /// <param name="bosId">The corpus tokenizer's BOS, which opens every prompt.</param>
    public static IReadOnlyList<NextWordQuestion> Build(TokenMetadata test, TokenMetadata train, IReadOnlyList<string> posTags,
        int genres, int perGenre, int context, Func<int, bool> inVocabulary, int bosId, long seed)
    {
        int[] classOfPos = posTags.Select(tag => AnswerClasses.ToList().IndexOf(BrownTagset.Coarse(tag))).ToArray();
        int[][] pools = DistractorPools(train, classOfPos, inVocabulary);

        var questions = new List<NextWordQuestion>();
        var random = new SplitMix64((ulong)seed);
        for (int genre = 0; genre < genres; genre++)
        {
            var candidates = new List<int>();
            for (int p = context; p < test.Count; p++)
            {
                if (test.LabelIds[p] != genre || !StartsWord(test, p) || classOfPos[test.PosIds[p]] < 0 || !inVocabulary(test.TokenIds[p])) continue;
                // The whole prompt lies in the answer's document and holds no separator.
                if (test.DocumentIds[p - context] != test.DocumentIds[p] || Enumerable.Range(p - context, context).Any(i => test.Special[i])) continue;
                if (pools[classOfPos[test.PosIds[p]]].Count(id => id != test.TokenIds[p]) < 3) continue;
                candidates.Add(p);
            }
            int[] order = random.Permutation(candidates.Count);
            foreach (int pick in order.Take(perGenre).Order())
            {
                int p = candidates[pick];
                int[] pool = pools[classOfPos[test.PosIds[p]]].Where(id => id != test.TokenIds[p]).ToArray();
                random.Shuffle(pool.AsSpan());
                questions.Add(new NextWordQuestion(genre, Prompt(test, p, context, bosId), [test.TokenIds[p], .. pool.Take(3)]));
            }
        }
        return questions;
    }

    public static bool StartsWord(TokenMetadata tokens, int p) =>
        !tokens.Special[p] && TokenizedCorpus.IsTagged(tokens.PosIds[p]) && p > 0
        && (tokens.Special[p - 1] || tokens.PosIds[p - 1] != tokens.PosIds[p] || tokens.SentenceIds[p - 1] != tokens.SentenceIds[p]);

    /// <summary>The BOS (with the first prompt token's document, sentence and genre) and the context tokens before p.</summary>
    static TokenMetadata Prompt(TokenMetadata tokens, int p, int context, int bosId)
    {
        var prompt = TokenMetadata.Empty(context + 1);
        int first = p - context;
        prompt.Set(0, bosId, tokens.DocumentIds[first], tokens.SentenceIds[first], tokens.LabelIds[first], TokenizedCorpus.NoPos, special: true);
        tokens.CopyTo(first, prompt, 1, context);
        return prompt;
    }

    /// <summary>Per answer class, the most frequent word-initial in-vocabulary tokens of the stream (ties: lower id).</summary>
    static int[][] DistractorPools(TokenMetadata train, int[] classOfPos, Func<int, bool> inVocabulary)
    {
        var counts = AnswerClasses.Select(_ => new Dictionary<int, int>()).ToArray();
        for (int p = 1; p < train.Count; p++)
        {
            int cls = classOfPos[train.PosIds[p]];
            if (cls < 0 || !StartsWord(train, p)) continue;
            counts[cls][train.TokenIds[p]] = counts[cls].GetValueOrDefault(train.TokenIds[p]) + 1;
        }
        return counts.Select(c => c.Where(kv => inVocabulary(kv.Key)).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key)
            .Take(DistractorPool).Select(kv => kv.Key).ToArray()).ToArray();
    }
}
