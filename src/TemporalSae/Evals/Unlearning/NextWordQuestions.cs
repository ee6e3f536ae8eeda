// Four-choice next-word questions for the unlearning evaluation (SAEBench's unlearning, on open data): a prompt of
// held-out text, the one-token word that follows it, and three distractors of the same frequency class. Forget
// answers are words specific to the forget set (high forget-vs-retain log-odds on the training split), so a question
// tests what the model knows of the forget text rather than of English; retain answers are any other words. Built
// from token metadata and token text alone, deterministically for a seed.
//
// A word starts at a sentence start, after a special or whitespace-only token, at a token whose text opens with
// whitespace (GPT-2 folds the space into the next word's first token), next to a punctuation token, and in Brown
// where the POS tag changes. A word is lexical when its first token holds a letter; punctuation is never an answer.
using TemporalSae.Data;
using TemporalSae.Tokenizers;

namespace TemporalSae.Evals.Unlearning;

/// <summary>One question: prompt tokens (with metadata, starting with the BOS), four corpus token ids (the answer first), the answer's log-odds.</summary>
public sealed record NextWordQuestion(int Label, int Document, TokenMetadata Prompt, int[] Choices, double LogOdds);

/// <summary>What a GPT-2 id's text says about words: a leading space, whitespace only, a letter.</summary>
public sealed class TokenShapes(Func<int, string> text)
{
    readonly Dictionary<int, (bool Leading, bool Blank, bool Letter)> shapes = [];

    (bool Leading, bool Blank, bool Letter) Of(int id)
    {
        if (shapes.TryGetValue(id, out var shape)) return shape;
        string s = text(id);
        shape = (s.Length > 0 && char.IsWhiteSpace(s[0]), s.All(char.IsWhiteSpace), s.Any(char.IsLetter));
        shapes[id] = shape;
        return shape;
    }

    public bool LeadingSpace(int id) => Of(id).Leading;
    public bool Blank(int id) => Of(id).Blank;
    public bool HasLetter(int id) => Of(id).Letter;

    /// <summary>Punctuation, symbols or digits: neither blank nor holding a letter.</summary>
    public bool NonLexical(int id) => !Of(id).Blank && !Of(id).Letter;
}

/// <summary>Add-one smoothed word frequencies of the forget and the retain side of a stream.</summary>
public sealed class WordOdds
{
    readonly Dictionary<ulong, (long Forget, long Retain)> counts = [];
    long forgetTotal, retainTotal;

    public WordOdds(TokenMetadata train, TokenShapes shapes, Func<int, bool> inForget, Func<int, bool> inRetain)
    {
        foreach ((int start, int end) in NextWordQuestions.Words(train, shapes))
        {
            int label = train.LabelIds[start];
            bool forget = inForget(label), retain = inRetain(label);
            if (!forget && !retain) continue;
            ulong key = NextWordQuestions.WordKey(train.TokenIds, start, end);
            var c = counts.GetValueOrDefault(key);
            counts[key] = (c.Forget + (forget ? 1 : 0), c.Retain + (retain ? 1 : 0));
            if (forget) forgetTotal++;
            else retainTotal++;
        }
    }

    /// <summary>Distinct lexical words on either side (the smoothing's vocabulary size).</summary>
    public int Vocabulary => counts.Count;

    public (long Forget, long Retain) Count(ulong word) => counts.GetValueOrDefault(word);

    /// <summary>log p_F(w) - log p_R(w), with p_S(w) = (c_S(w) + 1) / (N_S + V).</summary>
    public double LogOdds(ulong word)
    {
        var c = Count(word);
        return Math.Log((c.Forget + 1.0) / (forgetTotal + Vocabulary)) - Math.Log((c.Retain + 1.0) / (retainTotal + Vocabulary));
    }

    /// <summary>floor(log2(1 + training count over both sides)): words within a factor of two in frequency share a class.</summary>
    public int FrequencyClass(ulong word)
    {
        var c = Count(word);
        return (int)Math.Floor(Math.Log2(1 + c.Forget + c.Retain));
    }

    public IEnumerable<ulong> Words => counts.Keys;
}

/// <param name="Forget">Forget questions, dealt across documents.</param>
/// <param name="Retain">Retain questions, dealt across labels and documents.</param>
/// <param name="ForgetCandidates">Forget positions that could have been asked (before the cap).</param>
/// <param name="RetainCandidates">Retain positions that could have been asked.</param>
/// <param name="ForgetTestDocuments">Test-split documents of the forget set.</param>
public sealed record QuestionSet(IReadOnlyList<NextWordQuestion> Forget, IReadOnlyList<NextWordQuestion> Retain,
    int ForgetCandidates, int RetainCandidates, int ForgetTestDocuments);

public static class NextWordQuestions
{
    /// <param name="test">The held-out stream questions come from.</param>
    /// <param name="train">The training stream word frequencies and distractors come from.</param>
    /// <param name="inVocabulary">Whether the subject model has its own id for a GPT-2 id.</param>
    public static QuestionSet Build(TokenMetadata test, TokenMetadata train, TokenShapes shapes, Func<int, bool> inForget, Func<int, bool> inRetain,
        int forgetCount, int retainCount, int context, double minLogOdds, Func<int, bool> inVocabulary, int bosId, long seed)
    {
        var odds = new WordOdds(train, shapes, inForget, inRetain);
        // Distractors: one-token lexical words the model has, by frequency class (single-token keys are the ids).
        var pools = odds.Words.Where(w => w < SingleTokenLimit && inVocabulary((int)w)).GroupBy(odds.FrequencyClass)
            .ToDictionary(g => g.Key, g => g.Order().Select(w => (int)w).ToArray());

        var forget = new List<int>();
        var retain = new List<int>();
        foreach ((int start, int end) in Words(test, shapes))
        {
            if (end != start + 1 || start < context) continue;
            int label = test.LabelIds[start], id = test.TokenIds[start];
            bool isForget = inForget(label);
            if (!isForget && !inRetain(label)) continue;
            if (!inVocabulary(id) || !pools.TryGetValue(odds.FrequencyClass((ulong)id), out int[]? pool) || pool.Length < 4) continue;
            // The whole prompt lies in the answer's document and holds no separator.
            if (test.DocumentIds[start - context] != test.DocumentIds[start] || Enumerable.Range(start - context, context).Any(i => test.Special[i])) continue;
            bool specific = odds.LogOdds((ulong)id) >= minLogOdds;
            if (isForget && specific) forget.Add(start);
            else if (!isForget && !specific) retain.Add(start);
        }

        var random = new SplitMix64((ulong)seed);
        NextWordQuestion Ask(int p)
        {
            int id = test.TokenIds[p];
            int[] pool = pools[odds.FrequencyClass((ulong)id)].Where(w => w != id).ToArray();
            random.Shuffle(pool.AsSpan());
            return new NextWordQuestion(test.LabelIds[p], test.DocumentIds[p], Prompt(test, p, context, bosId), [id, .. pool.Take(3)], odds.LogOdds((ulong)id));
        }
        int[] forgetPicked = Dealt(forget, test, random).Take(forgetCount).ToArray();
        int[] retainPicked = Dealt(retain, test, random).Take(retainCount).ToArray();
        int forgetDocuments = Enumerable.Range(0, test.Count).Where(i => !test.Special[i] && inForget(test.LabelIds[i]))
            .Select(i => test.DocumentIds[i]).Distinct().Count();
        return new QuestionSet(forgetPicked.Select(Ask).ToList(), retainPicked.Select(Ask).ToList(), forget.Count, retain.Count, forgetDocuments);
    }

    /// <summary>Keys below this are one-token words (the key is the GPT-2 id); longer words hash above it.</summary>
    const ulong SingleTokenLimit = 1UL << 32;

    /// <summary>A word's identity: its id when it is one token, else an FNV-1a hash of its ids with the top bit set.</summary>
    public static ulong WordKey(int[] ids, int start, int end)
    {
        if (end == start + 1) return (ulong)(uint)ids[start];
        ulong hash = 14695981039346656037UL;
        for (int i = start; i < end; i++) hash = (hash ^ (uint)ids[i]) * 1099511628211UL;
        return hash | (1UL << 63);
    }

    /// <summary>Whether a token belongs to any word: not special, not whitespace only.</summary>
    static bool InWord(TokenMetadata tokens, TokenShapes shapes, int p) =>
        !tokens.Special[p] && tokens.PosIds[p] != TokenizedCorpus.NoPos && !shapes.Blank(tokens.TokenIds[p]);

    public static bool StartsWord(TokenMetadata tokens, TokenShapes shapes, int p)
    {
        if (!InWord(tokens, shapes, p)) return false;
        if (p == 0 || !InWord(tokens, shapes, p - 1) || tokens.DocumentIds[p - 1] != tokens.DocumentIds[p]
            || tokens.SentenceIds[p - 1] != tokens.SentenceIds[p]) return true;
        int id = tokens.TokenIds[p], before = tokens.TokenIds[p - 1];
        if (shapes.LeadingSpace(id) || shapes.NonLexical(id) || shapes.NonLexical(before)) return true;
        return TokenizedCorpus.IsTagged(tokens.PosIds[p]) && tokens.PosIds[p - 1] != tokens.PosIds[p];
    }

    /// <summary>Every lexical word of a stream as [start, end) token ranges.</summary>
    public static IEnumerable<(int Start, int End)> Words(TokenMetadata tokens, TokenShapes shapes)
    {
        for (int p = 0; p < tokens.Count; p++)
        {
            if (!StartsWord(tokens, shapes, p) || !shapes.HasLetter(tokens.TokenIds[p])) continue;
            int end = p + 1;
            while (end < tokens.Count && InWord(tokens, shapes, end) && !StartsWord(tokens, shapes, end)) end++;
            yield return (p, end);
        }
    }

    /// <summary>Positions in WindowSampling's stratified order: labels in proportion, a label's documents in turns.</summary>
    static int[] Dealt(List<int> positions, TokenMetadata tokens, SplitMix64 random) =>
        WindowSampling.Stratified(positions, p => tokens.LabelIds[p], p => tokens.DocumentIds[p], random);

    /// <summary>The corpus' BOS (with the first prompt token's document, sentence and label) and the context tokens before p.</summary>
    static TokenMetadata Prompt(TokenMetadata tokens, int p, int context, int bosId)
    {
        var prompt = TokenMetadata.Empty(context + 1);
        int first = p - context;
        prompt.Set(0, bosId, tokens.DocumentIds[first], tokens.SentenceIds[first], tokens.LabelIds[first], TokenizedCorpus.NoPos, special: true);
        tokens.CopyTo(first, prompt, 1, context);
        return prompt;
    }
}
