// Rebuilds readable text from Brown's tokenised sentences and records where every word lands, so that BPE tokens
// can be mapped back to words (and hence to POS tags and sentences) by character offsets.

using System.Text;

namespace TemporalSae.Data.Sources;

/// <summary>
/// A document's readable text and, per word in corpus order, its [start, end) character span and its sentence index
/// within the document.
/// </summary>
public sealed record RebuiltText(string Text, int[] WordStart, int[] WordEnd, int[] WordSentence);

/// <summary>
/// Joining rules: sentences of a paragraph are separated by one space, paragraphs by one newline ("\n"); the text
/// neither starts nor ends with whitespace. Tags are dropped; `` and '' become a double quote ("), ` becomes '.
/// Words are separated by one space except: no space before a closer (, . ; : ? ! ) ] } and the closing quotes),
/// and no space after an opener (( [ { and the opening quotes). A lone ' is Brown's single quote for both sides:
/// inside a sentence, odd occurrences open and even ones close.
/// </summary>
public static class TextRebuilder
{
    static readonly HashSet<string> Closers = new(StringComparer.Ordinal) { ",", ".", ";", ":", "?", "!", ")", "]", "}", "''" };
    static readonly HashSet<string> Openers = new(StringComparer.Ordinal) { "(", "[", "{", "``", "`" };

    /// <summary>The word as it appears in readable text.</summary>
    public static string Surface(string word) => word switch
    {
        "``" or "''" => "\"",
        "`" => "'",
        _ => word,
    };

    public static RebuiltText Rebuild(IReadOnlyList<BrownParagraph> paragraphs)
    {
        var text = new StringBuilder();
        var starts = new List<int>();
        var ends = new List<int>();
        var sentenceOf = new List<int>();
        int sentence = 0;
        foreach (BrownParagraph paragraph in paragraphs)
        {
            if (text.Length > 0) text.Append('\n');
            bool atParagraphStart = true;
            bool previousOpens = false;
            foreach (BrownSentence s in paragraph.Sentences)
            {
                bool singleQuoteOpen = false;
                foreach (BrownWord word in s.Words)
                {
                    bool closes = Closers.Contains(word.Text);
                    bool opens = Openers.Contains(word.Text);
                    if (word.Text == "`") singleQuoteOpen = true;
                    if (word.Text == "'")
                    {
                        closes = singleQuoteOpen;
                        opens = !singleQuoteOpen;
                        singleQuoteOpen = !singleQuoteOpen;
                    }
                    if (!atParagraphStart && !closes && !previousOpens) text.Append(' ');
                    string surface = Surface(word.Text);
                    starts.Add(text.Length);
                    text.Append(surface);
                    ends.Add(text.Length);
                    sentenceOf.Add(sentence);
                    atParagraphStart = false;
                    previousOpens = opens;
                }
                sentence++;
            }
        }
        return new RebuiltText(text.ToString(), [.. starts], [.. ends], [.. sentenceOf]);
    }
}
