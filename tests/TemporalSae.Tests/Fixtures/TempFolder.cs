// A temporary folder for one test, created at once and removed with everything in it when the test ends. It reads as
// its path wherever a string path is expected (Path.Combine(folder, "x")), so tests keep the path code they would
// write with a plain string. Shared with the CLI tests, which compile this file too.
namespace TemporalSae.Tests.Fixtures;

sealed class TempFolder(string prefix = "tsae-test-") : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public static implicit operator string(TempFolder folder) => folder.Path;

    public override string ToString() => Path;

    public void Dispose()
    {
        // A test that left a file open (a memory-mapped store on another platform) must not fail in its clean-up.
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
