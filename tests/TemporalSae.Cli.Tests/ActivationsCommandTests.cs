// `tsae activations`: the written tensors equal a direct forward pass; bad input exits 2 with a message.
using TemporalSae.Models;
using TemporalSae.Safetensors;
using TemporalSae.Tests.Fixtures;
using static TorchSharp.torch;

namespace TemporalSae.Cli.Tests;

public class ActivationsCommandTests
{
    [Fact]
    public void WritesResidPostAndLogitsOfTheExactSequence()
    {
        using var dir = new TempFolder("tsae-cli-act-");
        var config = new Gpt2Config { VocabSize = 40, NPositions = 8, NEmbd = 16, NLayer = 2, NHead = 2 };
        using var model = new Gpt2Model(config, seed: 3);
        model.Save(Path.Combine(dir, "ckpt"));
        string output = Path.Combine(dir, "act.safetensors");
        var stdout = new StringWriter();
        int code = CliApp.Run(["activations", "--model", Path.Combine(dir, "ckpt"), "--layer", "0", "--tokens", "5,39,0,7", "--out", output],
            stdout, new StringWriter());
        Assert.Equal(0, code);

        using var file = SafetensorsFile.Open(output);
        using var resid = file.Load("resid_post");
        using var logits = file.Load("logits");
        Assert.Equal(new long[] { 4, 16 }, resid.shape);
        Assert.Equal(new long[] { 4, 40 }, logits.shape);
        using var noGrad = no_grad();
        var expected = model.Forward(tensor(new long[] { 5, 39, 0, 7 }).unsqueeze(0), new ResidHook(0));
        Assert.True(expected.ResidPost![0].eq(resid).all().item<bool>());
        Assert.True(expected.Logits![0].eq(logits).all().item<bool>());
    }

    [Theory]
    [InlineData("1,x", "'x'")]
    [InlineData("1,2", "no config.json")]
    public void BadInputExitsWithTwo(string tokens, string message)
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["activations", "--model", "/nonexistent-checkpoint", "--layer", "0", "--tokens", tokens, "--out", "/tmp/unused.safetensors"],
            new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr.ToString());
    }
}
