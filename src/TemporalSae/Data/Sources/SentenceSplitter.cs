// Splits untagged prose (State of the Union addresses, Moby-Dick) into sentences and counts its words the way Brown
// does, so every source has sentences and the same notion of a word.

using System.Text.RegularExpressions;

namespace TemporalSae.Data.Sources;

/// <summary>
/// The rule: a paragraph break ("\n", any number) always ends a sentence. Inside a paragraph a sentence ends after
/// '.', '!' or '?' (and any closing quotes or brackets right after it) when whitespace follows and the next
/// non-space character opens a sentence (an upper-case letter, a digit, an opening quote or bracket), unless the
/// '.' ends an abbreviation that is usually followed by a name (Mr. Mrs. Dr. St. Gen. ...) or a single capital
/// letter (an initial, "J. Q. Adams"). Sentences are trimmed of surrounding whitespace; empty ones are dropped.
/// The rule over-splits after other abbreviations that end a clause and under-splits where a sentence starts in
/// lower case; both are rare in these texts.
/// </summary>
public static partial class SentenceSplitter
{
    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal)
    {
        "Mr", "Mrs", "Messrs", "Ms", "Dr", "St", "Mt", "Gen", "Col", "Capt", "Lt", "Maj", "Sgt", "Gov", "Rev", "Hon",
        "Prof", "Sen", "Rep", "Jr", "Sr", "No", "Nos", "vs", "viz", "cf", "Co", "Jan", "Feb", "Mar", "Apr", "Aug",
        "Sept", "Sep", "Oct", "Nov", "Dec",
    };

    const string Closers = "\"')]}";
    const string SentenceOpeners = "\"'([{";

    /// <summary>[start, end) spans of the sentences of <paramref name="text"/>.</summary>
    public static (int[] Start, int[] End) Split(string text)
    {
        var starts = new List<int>();
        var ends = new List<int>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n')
            {
                Add(start, i);
                start = i + 1;
                continue;
            }
            if (c is not ('.' or '!' or '?')) continue;
            int end = i + 1;
            while (end < text.Length && Closers.Contains(text[end])) end++;
            if (end >= text.Length || !char.IsWhiteSpace(text[end])) continue;
            int next = end;
            while (next < text.Length && text[next] is ' ' or '\t') next++;
            if (next < text.Length && text[next] != '\n' && !OpensSentence(text[next])) continue;
            if (c == '.' && EndsAbbreviation(text, i)) continue;
            Add(start, end);
            start = end;
            i = end - 1;
        }
        Add(start, text.Length);
        return ([.. starts], [.. ends]);

        void Add(int from, int to)
        {
            while (from < to && char.IsWhiteSpace(text[from])) from++;
            while (to > from && char.IsWhiteSpace(text[to - 1])) to--;
            if (to <= from) return;
            starts.Add(from);
            ends.Add(to);
        }
    }

    /// <summary>Words and punctuation marks, as the Brown Corpus counts them ("don't" is one word, "--" one mark).</summary>
    public static int CountWords(string text) => WordPattern().Count(text);

    static bool OpensSentence(char c) => char.IsUpper(c) || char.IsDigit(c) || SentenceOpeners.Contains(c);

    /// <summary>Whether the '.' at <paramref name="dot"/> ends a listed abbreviation or a single capital initial.</summary>
    static bool EndsAbbreviation(string text, int dot)
    {
        int start = dot;
        while (start > 0 && char.IsLetter(text[start - 1])) start--;
        if (start > 0 && !char.IsWhiteSpace(text[start - 1]) && !SentenceOpeners.Contains(text[start - 1]) && text[start - 1] != '.') return false;
        string word = text[start..dot];
        return (word.Length == 1 && char.IsUpper(word[0])) || Abbreviations.Contains(word);
    }

    [GeneratedRegex(@"\w+(?:['\-]\w+)*|-+|[^\w\s]", RegexOptions.CultureInvariant)]
    private static partial Regex WordPattern();
}
