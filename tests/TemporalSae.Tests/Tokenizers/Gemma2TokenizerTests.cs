// Gemma-2's tokenizer.model read through Microsoft.ML.Tokenizers gives the ids SentencePiece itself gives
// (tokenizer_reference.json, written by Fixtures/make_reference.py with the sentencepiece library).
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using TemporalSae.Infrastructure;
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;
using TemporalSae.Tokenizers;

namespace TemporalSae.Tests.Tokenizers;

public class Gemma2TokenizerTests
{
    [Fact]
    public void Encodes_like_sentencepiece()
    {
        string folder = Path.Combine(FixtureCheckpoint.Root, "gemma2-tiny");
        Tokenizer tokenizer = Gemma2Tokenizer.TryLoad(folder)!;
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_reference.json")));
        foreach (JsonElement c in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(expected, tokenizer.EncodeToIds(text).ToArray());
            // Unknown characters (id 3) cannot come back; everything else round-trips.
            if (!expected.Contains(3)) Assert.Equal(text, tokenizer.Decode(expected));
        }
    }

    [Fact]
    public void Folder_without_tokenizer_gives_null_and_a_broken_file_a_clear_error()
    {
        using var folder = new TempFolder("gemma2-tok");
        Assert.Null(Gemma2Tokenizer.TryLoad(folder));
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"), [0xff, 0xff, 0x01, 0x02]);
        Assert.Contains("tokenizer.model", Assert.Throws<InvalidInputException>(() => Gemma2Tokenizer.TryLoad(folder)).Message);
    }
}
