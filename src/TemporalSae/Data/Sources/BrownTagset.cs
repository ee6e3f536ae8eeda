// Brown tags reduced to the universal POS tagset (Petrov, Das & McDonald 2012), following NLTK's en-brown mapping:
// the coarse labels (NOUN, VERB, ADJ, ...) that token-level probing tasks use.

namespace TemporalSae.Data.Sources;

public static class BrownTagset
{
    /// <summary>The universal tags, in the order used for ids.</summary>
    public static readonly IReadOnlyList<string> Universal = ["NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", ".", "X"];

    /// <summary>
    /// The universal tag of a Brown tag. Modifiers are stripped first: "fw-" (foreign word), "-tl" (title), "-hl"
    /// (headline), "-nc" (cited word); a contraction ("pps+bez") counts as its first part; "*" (not, n't) is ADV.
    /// The tokenizer's "none" (special and whitespace tokens) maps to "X".
    /// </summary>
    public static string Coarse(string brownTag)
    {
        string tag = brownTag;
        if (tag.StartsWith("fw-", StringComparison.Ordinal)) tag = tag[3..];
        foreach (string suffix in new[] { "-tl", "-hl", "-nc" })
            while (tag.EndsWith(suffix, StringComparison.Ordinal) && tag.Length > suffix.Length) tag = tag[..^suffix.Length];
        int plus = tag.IndexOf('+');
        if (plus > 0) tag = tag[..plus];
        if (tag.Length == 0 || tag == TokenizedCorpus.NoPosTag) return "X";
        if (tag.StartsWith('*')) return "ADV";
        if (!char.IsLetter(tag[0])) return ".";
        string stem = tag.TrimEnd('$', '*');
        return stem switch
        {
            "nn" or "nns" or "np" or "nps" or "nr" or "nrs" => "NOUN",
            "vb" or "vbd" or "vbg" or "vbn" or "vbz" or "md" or "hv" or "hvd" or "hvg" or "hvn" or "hvz" or "do" or "dod" or "doz" => "VERB",
            _ when stem.StartsWith("be", StringComparison.Ordinal) => "VERB",
            "jj" or "jjr" or "jjs" or "jjt" => "ADJ",
            "rb" or "rbr" or "rbt" or "rn" or "ql" or "qlp" or "wrb" => "ADV",
            _ when stem.StartsWith("pp", StringComparison.Ordinal) || stem.StartsWith("wp", StringComparison.Ordinal) => "PRON",
            "at" or "abn" or "abx" or "ap" or "dt" or "dti" or "dts" or "dtx" or "wdt" or "ex" => "DET",
            "in" => "ADP",
            "cd" or "od" => "NUM",
            "cc" or "cs" => "CONJ",
            "rp" or "to" => "PRT",
            _ => "X",
        };
    }
}
