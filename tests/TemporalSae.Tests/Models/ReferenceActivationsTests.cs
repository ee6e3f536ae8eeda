// `tsae activations` against the independent PyTorch reference in Fixtures/make_reference.py, for both
// architectures and every storage variant (plain, sharded with index, BF16-stored), through the real loader
// (SubjectModels.Load) and the command's own writer (ActivationDump), reading its safetensors output back.
using TemporalSae.Models;
using TemporalSae.Safetensors;
using TemporalSae.Tests.Fixtures;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Models;

public sealed class ReferenceActivationsTests(ITestOutputHelper output) : IDisposable
{
    // Float32 on both sides; values reach ~10, so 1e-4 absolute leaves room only for summation order.
    const double Tolerance = 1e-4;

    readonly TempFolder outFolder = new("tsae-ref-");

    public void Dispose()
    {
        outFolder.Dispose();
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("gpt2-tiny-sharded")]
    [InlineData("gpt2-tiny-bf16")]
    [InlineData("gemma2-tiny")]
    [InlineData("gemma2-tiny-sharded")]
    [InlineData("gemma2-tiny-bf16")]
    public void Activations_command_matches_the_reference_for_every_layer(string fixture)
    {
        string folder = Path.Combine(FixtureCheckpoint.Root, fixture);
        Dictionary<string, Tensor> reference = FixtureCheckpoint.ReadSafetensors(Path.Combine(folder, "reference.safetensors"));
        using ISubjectModel model = SubjectModels.Load(folder);
        Tensor ids = reference["input_ids"];                                      // [2, T]
        Directory.CreateDirectory(outFolder);

        double worst = 0;
        for (int row = 0; row < ids.shape[0]; row++)
            for (int layer = 0; layer < model.Layers; layer++)
            {
                string path = Path.Combine(outFolder, $"{fixture}-{row}-{layer}.safetensors");
                ActivationDump.Write(model, layer, ids[row].data<long>().ToArray(), path);
                using var file = SafetensorsFile.Open(path);
                using Tensor resid = file.Load("resid_post");                    // [T, d]
                using Tensor logits = file.Load("logits");                       // [T, V]
                worst = Math.Max(worst, TensorAssert.Close(reference[$"resid_post.{layer}"][row], resid, Tolerance, $"{fixture} row {row} resid_post.{layer}"));
                worst = Math.Max(worst, TensorAssert.Close(reference["logits"][row], logits, Tolerance, $"{fixture} row {row} logits"));
            }
        output.WriteLine($"{fixture}: max |diff| {worst:E2}");
        foreach (Tensor t in reference.Values) t.Dispose();
    }
}
