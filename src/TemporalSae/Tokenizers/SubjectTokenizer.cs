// The tokenizer shipped in a Hugging Face GPT-2-style checkpoint folder (vocab.json + merges.txt), read with
// Microsoft.ML.Tokenizers' CodeGenTokenizer, which gives GPT-2's byte-level BPE ids. A folder without
// tokenizer files still serves models that are given token ids directly.
using Microsoft.ML.Tokenizers;
using TemporalSae.Infrastructure;

namespace TemporalSae.Tokenizers;

public static class SubjectTokenizer
{
    public const string VocabFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";

    /// <summary>The folder's BPE tokenizer (no prefix space, no BOS/EOS added), or null when it ships none.</summary>
    public static Tokenizer? TryLoad(string folder)
    {
        string vocab = Path.Combine(folder, VocabFileName);
        string merges = Path.Combine(folder, MergesFileName);
        bool hasVocab = File.Exists(vocab), hasMerges = File.Exists(merges);
        if (!hasVocab && !hasMerges) return null;
        if (!hasVocab || !hasMerges)
            throw new InvalidInputException(
                $"checkpoint folder '{folder}' has {(hasVocab ? VocabFileName : MergesFileName)} but not {(hasVocab ? MergesFileName : VocabFileName)}; " +
                "a GPT-2 BPE tokenizer needs both");
        using var vocabStream = File.OpenRead(vocab);
        using var mergesStream = File.OpenRead(merges);
        return CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
    }
}
