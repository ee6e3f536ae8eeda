// Runs a subject model on one exact token sequence and writes its hooked residual stream and logits as float32
// safetensors (resid_post [T, d_model], logits [T, vocab]): the reference-comparison output of `tsae activations`.
using TemporalSae.Infrastructure;
using TemporalSae.Safetensors;
using static TorchSharp.torch;

namespace TemporalSae.Models;

public static class ActivationDump
{
    public static void Write(ISubjectModel model, int layer, IReadOnlyList<long> tokens, string outPath)
    {
        if (tokens.Count == 0) throw new InvalidInputException("--tokens must list at least one token id");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(tokens.ToArray(), ScalarType.Int64).unsqueeze(0); // [1, T]
        var output = model.Forward(ids, new ResidHook(layer));
        var tensors = new Dictionary<string, Tensor>
        {
            ["resid_post"] = output.ResidPost![0].to_type(ScalarType.Float32), // [T, d_model]
            ["logits"] = output.Logits![0].to_type(ScalarType.Float32), // [T, vocab]
        };
        var metadata = new Dictionary<string, string>
        {
            ["hook"] = $"blocks.{layer}.hook_resid_post",
            ["model_type"] = model.ModelType,
            ["tokens"] = string.Join(",", tokens),
        };
        SafetensorsWriter.Write(outPath, tensors, metadata);
    }

    /// <summary>Parses "1,2,3" into token ids.</summary>
    public static long[] ParseTokens(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ids = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
                throw new InvalidInputException($"--tokens: '{parts[i]}' (item {i + 1}) is not a non-negative integer token id; give ids like 464,2068,7586");
        return ids;
    }
}
