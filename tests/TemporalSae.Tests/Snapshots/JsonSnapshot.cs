// Snapshot files for result documents: <name>.verified.json is committed; a run whose result (provenance left out)
// differs from it beyond the review tolerance writes <name>.received.json beside it (ignored by git) and fails with the
// differences and `tsae diff`'s Markdown tables. TSAE_ACCEPT_SNAPSHOTS=1 overwrites the verified files instead.
// A small helper rather than a library: Verify.Xunit does not restore here, and Snapshooter.Xunit and ApprovalTests
// compare text or fields exactly, with no numeric tolerance, which results from other CPUs need.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TemporalSae.Results;
using TemporalSae.Review;

namespace TemporalSae.Tests.Snapshots;

public static class JsonSnapshot
{
    public const string AcceptVariable = "TSAE_ACCEPT_SNAPSHOTS";

    /// <summary>The one command that (re)writes every verified snapshot from the current code.</summary>
    public const string AcceptCommand = $"{AcceptVariable}=1 dotnet test tests/TemporalSae.Tests --filter \"FullyQualifiedName~Snapshots\"";

    /// <summary>True when the environment asks to accept received results as the new verified snapshots.</summary>
    public static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) is "1" or "true";

    public static string ReceivedPath(string verifiedPath) =>
        verifiedPath.EndsWith(".verified.json", StringComparison.Ordinal)
            ? verifiedPath[..^".verified.json".Length] + ".received.json"
            : throw new ArgumentException($"a verified snapshot is named NAME.verified.json, not {Path.GetFileName(verifiedPath)}", nameof(verifiedPath));

    /// <summary>
    /// Compares <paramref name="result"/> without its provenance block with the verified file, within
    /// <paramref name="tolerance"/> for numbers and exactly for everything else; fails the test on a difference.
    /// </summary>
    /// <param name="shapeOnly">Paths whose values are checked for presence only (see <see cref="JsonDifferences.Find"/>).</param>
    public static void Match(JsonObject result, string verifiedPath, Tolerance tolerance, bool accept, Func<string, bool>? shapeOnly = null)
    {
        // Through the result writer and back, so the received file and the comparison see the same 6-digit numbers.
        string text = ResultJson.Serialize(ResultDocument.WithoutProvenance(result));
        JsonObject received = JsonNode.Parse(text)!.AsObject();
        string receivedPath = ReceivedPath(verifiedPath);
        string name = Path.GetFileName(verifiedPath)[..^".verified.json".Length];

        if (accept)
        {
            File.WriteAllText(verifiedPath, text);
            File.Delete(receivedPath);
            return;
        }
        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, text);
            Assert.Fail($"{name}: no verified snapshot {verifiedPath}.\n" +
                        $"The result was written to {receivedPath}; review it and rename it to {Path.GetFileName(verifiedPath)}, " +
                        $"or write every snapshot at once from the repository root:\n  {AcceptCommand}");
        }

        JsonObject verified;
        try { verified = JsonNode.Parse(File.ReadAllText(verifiedPath))!.AsObject(); }
        catch (JsonException e)
        {
            File.WriteAllText(receivedPath, text);
            Assert.Fail($"{name}: {verifiedPath} is not valid JSON ({e.Message}); it was edited by hand or merged badly. " +
                        $"The result was written to {receivedPath}; regenerate the snapshots with:\n  {AcceptCommand}");
            return;
        }
        IReadOnlyList<string> differences = JsonDifferences.Find(verified, received, tolerance, shapeOnly);
        if (differences.Count == 0)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, text);
        Assert.Fail(Message(name, verifiedPath, receivedPath, verified, received, differences, tolerance));
    }

    static string Message(string name, string verifiedPath, string receivedPath, JsonObject verified, JsonObject received,
                          IReadOnlyList<string> differences, Tolerance tolerance)
    {
        const int shown = 40;
        var message = new StringBuilder();
        message.Append($"{name}: the result differs from {verifiedPath} in {differences.Count} place(s) " +
                       $"(numbers: relative {tolerance.Relative:G} + absolute {tolerance.Absolute:G}; everything else exactly).\n");
        message.Append($"Received: {receivedPath}\n");
        message.Append($"If the change is intended, accept it (then review the verified files' git diff):\n  {AcceptCommand}\n\n");
        message.Append("Differences (verified -> received):\n\n");
        foreach (string difference in differences.Take(shown)) message.Append("- ").Append(difference).Append('\n');
        if (differences.Count > shown) message.Append($"- ... and {differences.Count - shown} more\n");
        message.Append('\n').Append(ResultDiff.Markdown($"{name} (verified -> received)", verified, received, tolerance));
        return message.ToString();
    }
}
