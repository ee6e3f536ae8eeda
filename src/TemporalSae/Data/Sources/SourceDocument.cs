// One document of any text source, in the form the tokeniser needs: its readable text, the character spans of its
// sentences and, when the source is POS-tagged (Brown only), of its tagged words.

namespace TemporalSae.Data.Sources;

/// <summary>
/// Words in corpus order with [start, end) character spans in the document text and their tags (Brown's lower-case
/// tags, e.g. "nn-tl").
/// </summary>
public sealed record TaggedWords(int[] Start, int[] End, string[] Tag)
{
    public int Count => Start.Length;
}

/// <summary>
/// A document: <see cref="Name"/> is unique over every source (Brown's file name "ca01", "sotu/1790_george_washington",
/// "moby_dick/chapter_001"); <see cref="Label"/> is what splits are stratified by and what probes predict (Brown genre,
/// State of the Union party, the one label of Moby-Dick); <see cref="Attributes"/> are further facts about the document
/// (year, president, era, chapter title). Sentences are [start, end) spans of <see cref="Text"/>, in order, not
/// overlapping. <see cref="Words"/> is null for untagged sources; <see cref="WordCount"/> counts words and punctuation
/// marks as Brown does.
/// </summary>
public sealed record SourceDocument(
    string Source,
    string Name,
    string Label,
    string Text,
    int[] SentenceStart,
    int[] SentenceEnd,
    TaggedWords? Words,
    int WordCount,
    IReadOnlyDictionary<string, string> Attributes)
{
    public int SentenceCount => SentenceStart.Length;
}
