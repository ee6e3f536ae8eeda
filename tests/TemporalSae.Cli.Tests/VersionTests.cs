namespace TemporalSae.Cli.Tests;

public class VersionTests
{
    [Fact]
    public void Version_names_tool_torchsharp_libtorch_and_device()
    {
        var stdout = new StringWriter();
        int code = CliApp.Run(["--version"], stdout, new StringWriter());
        Assert.Equal(0, code);
        string text = stdout.ToString();
        Assert.Matches(@"(?m)^tsae \d+\.\d+\.\d+", text);
        Assert.Matches(@"(?m)^TorchSharp 0\.107\.\d+", text);
        Assert.Matches(@"(?m)^LibTorch 2\.\d+", text);
        Assert.Matches(@"(?m)^device (cpu|cuda)$", text);
    }
}
