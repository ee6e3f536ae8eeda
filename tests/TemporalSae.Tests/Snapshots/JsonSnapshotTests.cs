// The snapshot helper itself: tolerance, received files, the message, provenance, accepting.
using System.Text.Json.Nodes;
using TemporalSae.Review;
using TemporalSae.Tests.Fixtures;
using Xunit.Sdk;

namespace TemporalSae.Tests.Snapshots;

public sealed class JsonSnapshotTests : IDisposable
{
    readonly TempFolder folder = new("tsae-snapshot-helper-");

    public void Dispose() => folder.Dispose();

    string Verified => Path.Combine(folder, "demo.verified.json");
    string Received => Path.Combine(folder, "demo.received.json");

    static JsonObject Result(double explainedVariance, string architecture = "standard", double wallSeconds = 1.5) => new()
    {
        ["schema_version"] = 1,
        ["experiment"] = new JsonObject { ["name"] = "demo", ["title"] = "Demo" },
        ["config"] = new JsonObject { ["sae"] = new JsonObject { ["architecture"] = architecture } },
        ["stages"] = new JsonObject { ["sae"] = new JsonObject { ["curve"] = new JsonArray(1.0, 0.5) } },
        ["evals"] = new JsonObject
        {
            ["core"] = new JsonObject { ["reconstruction_quality"] = new JsonObject { ["explained_variance"] = explainedVariance } },
        },
        ["provenance"] = new JsonObject { ["wall_seconds"] = wallSeconds, ["git_commit"] = "abc" },
    };

    void Accept(JsonObject result) => JsonSnapshot.Match(result, Verified, Tolerance.Default, accept: true);

    void Check(JsonObject result) => JsonSnapshot.Match(result, Verified, Tolerance.Default, accept: false);

    [Fact]
    public void A_relative_change_of_1e_4_passes_and_1e_2_fails()
    {
        Accept(Result(0.8));
        Check(Result(0.8 * (1 + 1e-4)));
        Assert.False(File.Exists(Received));
        Assert.Throws<FailException>(() => Check(Result(0.8 * (1 + 1e-2))));
    }

    [Fact]
    public void A_mismatch_writes_a_received_file_and_the_message_holds_the_diff()
    {
        Accept(Result(0.8));
        var failure = Assert.Throws<FailException>(() => Check(Result(0.9)));

        Assert.True(File.Exists(Received));
        Assert.Equal(0.9, JsonNode.Parse(File.ReadAllText(Received))!["evals"]!["core"]!["reconstruction_quality"]!["explained_variance"]!.GetValue<double>());
        Assert.Null(JsonNode.Parse(File.ReadAllText(Received))!["provenance"]);
        Assert.Contains("`evals.core.reconstruction_quality.explained_variance`: 0.8 -> 0.9", failure.Message);
        // tsae diff's table row: metric, old, new, delta, relative delta, mark.
        Assert.Contains("| reconstruction_quality.explained_variance | 0.8 | 0.9 | 0.1 | +12.50% | **beyond tolerance** |", failure.Message);
        Assert.Contains(JsonSnapshot.AcceptCommand, failure.Message);

        // A later run that matches again removes the stale received file.
        Check(Result(0.8));
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Provenance_is_ignored()
    {
        Accept(Result(0.8, wallSeconds: 1.5));
        Check(Result(0.8, wallSeconds: 900));
        Assert.DoesNotContain("provenance", File.ReadAllText(Verified));
    }

    [Fact]
    public void Strings_must_match_exactly_and_array_elements_are_compared()
    {
        Accept(Result(0.8));
        var failure = Assert.Throws<FailException>(() => Check(Result(0.8, architecture: "topk")));
        Assert.Contains("`config.sae.architecture`: \"standard\" -> \"topk\"", failure.Message);

        var curve = Result(0.8);
        curve["stages"]!["sae"]!["curve"] = new JsonArray(1.0, 0.6);
        Assert.Contains("`stages.sae.curve[1]`: 0.5 -> 0.6", Assert.Throws<FailException>(() => Check(curve)).Message);
    }

    [Fact]
    public void Added_and_removed_keys_are_differences()
    {
        var expected = Result(0.8);
        var actual = Result(0.8);
        actual["evals"]!["core"]!.AsObject().Remove("reconstruction_quality");
        actual["evals"]!["capability"] = new JsonObject { ["accuracy"] = 0.3 };
        var differences = JsonDifferences.Find(expected, actual, Tolerance.Default);
        Assert.Equal(2, differences.Count);
        Assert.StartsWith("`evals.core.reconstruction_quality`: {", differences[0]);
        Assert.Equal("`evals.capability`: (absent) -> {\"accuracy\":0.3}", differences[1]);
    }

    [Fact]
    public void Shape_only_paths_ignore_their_values_but_not_their_keys()
    {
        var expected = Result(0.8);
        var actual = Result(0.3);
        static bool Core(string path) => path.StartsWith("evals.core.", StringComparison.Ordinal);
        Assert.Empty(JsonDifferences.Find(expected, actual, Tolerance.Default, Core));
        Assert.NotEmpty(JsonDifferences.Find(expected, actual, Tolerance.Default));
        actual["evals"]!["core"]!.AsObject().Remove("reconstruction_quality");
        Assert.Single(JsonDifferences.Find(expected, actual, Tolerance.Default, Core));
    }

    [Fact]
    public void A_missing_verified_file_fails_saying_how_to_create_it()
    {
        var failure = Assert.Throws<FailException>(() => Check(Result(0.8)));
        Assert.Contains("no verified snapshot", failure.Message);
        Assert.Contains(JsonSnapshot.AcceptCommand, failure.Message);
        Assert.True(File.Exists(Received));
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void Accepting_overwrites_the_verified_file_and_removes_the_received_one()
    {
        Accept(Result(0.8));
        Assert.Throws<FailException>(() => Check(Result(0.9)));
        Accept(Result(0.9));
        Assert.False(File.Exists(Received));
        Check(Result(0.9));
        Assert.EndsWith("}\n", File.ReadAllText(Verified));
    }
}
