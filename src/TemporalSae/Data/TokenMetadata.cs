// Per-token columns shared by the data stage and the activation store: token id, document, sentence, label, POS tag
// and special-token flag, as parallel arrays (structure of arrays keeps them compact and cheap to slice).

namespace TemporalSae.Data;

/// <summary>
/// Parallel per-token arrays of equal length. Ids: <see cref="DocumentIds"/> index <see cref="TokenizedCorpus.Documents"/>,
/// <see cref="SentenceIds"/> are global over the corpus (0.. in corpus order), <see cref="LabelIds"/> index
/// <see cref="TokenizedCorpus.Labels"/> (each label belongs to one source, so the label also gives the token's
/// source), <see cref="PosIds"/> index the POS tag list (0 = "none": special or whitespace-only tokens; 1 = "absent":
/// a token of a source without POS tags).
/// </summary>
public sealed class TokenMetadata
{
    public TokenMetadata(int[] tokenIds, int[] documentIds, int[] sentenceIds, short[] labelIds, short[] posIds, bool[] special)
    {
        int n = tokenIds.Length;
        if (documentIds.Length != n || sentenceIds.Length != n || labelIds.Length != n || posIds.Length != n || special.Length != n)
            throw new ArgumentException("token metadata columns differ in length");
        TokenIds = tokenIds;
        DocumentIds = documentIds;
        SentenceIds = sentenceIds;
        LabelIds = labelIds;
        PosIds = posIds;
        Special = special;
    }

    public static TokenMetadata Empty(int count) =>
        new(new int[count], new int[count], new int[count], new short[count], new short[count], new bool[count]);

    public int Count => TokenIds.Length;
    public int[] TokenIds { get; }
    public int[] DocumentIds { get; }
    public int[] SentenceIds { get; }
    public short[] LabelIds { get; }
    public short[] PosIds { get; }
    public bool[] Special { get; }

    public TokenMetadata Slice(int start, int length)
    {
        var slice = Empty(length);
        CopyTo(start, slice, 0, length);
        return slice;
    }

    public void CopyTo(int start, TokenMetadata destination, int destinationStart, int length)
    {
        Array.Copy(TokenIds, start, destination.TokenIds, destinationStart, length);
        Array.Copy(DocumentIds, start, destination.DocumentIds, destinationStart, length);
        Array.Copy(SentenceIds, start, destination.SentenceIds, destinationStart, length);
        Array.Copy(LabelIds, start, destination.LabelIds, destinationStart, length);
        Array.Copy(PosIds, start, destination.PosIds, destinationStart, length);
        Array.Copy(Special, start, destination.Special, destinationStart, length);
    }

    /// <summary>Writes one token's values at <paramref name="index"/>.</summary>
    public void Set(int index, int tokenId, int documentId, int sentenceId, short labelId, short posId, bool special)
    {
        TokenIds[index] = tokenId;
        DocumentIds[index] = documentId;
        SentenceIds[index] = sentenceId;
        LabelIds[index] = labelId;
        PosIds[index] = posId;
        Special[index] = special;
    }
}
