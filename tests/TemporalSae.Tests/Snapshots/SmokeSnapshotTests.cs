// Snapshot tests: every runnable manifest in experiments/ runs in the smoke profile (experiments/profiles/smoke.yaml:
// the same graph at tiny sizes) and its result, provenance left out, must match Snapshots/<name>.verified.json within
// the review tolerance. That is every manifest whose model is built-in or committed in the repository (models/);
// manifests on a checkpoint from elsewhere (a real GPT-2 or Gemma-2) need a local copy, so they are only validated.
//
// Tolerance: relative 1e-2 + absolute 1e-6 for numbers (Tolerance.Snapshot), exactly for the rest. On one machine and
// thread count a result is byte-identical, so any change there is real; the tolerance absorbs the float differences of
// other CPUs, whose kernels sum in other orders and which a 16-step tiny training amplifies (see Tolerance.Snapshot).
// Except: evaluations that count discrete outcomes on a handful of smoke-sized examples (a question answered or not, a
// probe's 8 test examples, a latent active or not at 16 targets) move by a whole example when another CPU's 1e-3 drift
// tips one borderline case, far beyond any float tolerance. Their values are checked for presence only; their keys,
// array lengths and every other section are compared as above.
using System.Text.Json.Nodes;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Review;
using TemporalSae.Tests.Fixtures;
using Xunit.Abstractions;

namespace TemporalSae.Tests.Snapshots;

// Alone, after the parallel tests: LibTorch's thread count is process-wide, and other tests set it to 1, which would
// change the sums inside a run.
[CollectionDefinition(nameof(SmokeRuns), DisableParallelization = true)]
public sealed class SmokeRuns : ICollectionFixture<SmokeRunFolder>;

/// <summary>One cache for every smoke run of a test session, so the corpus, model and activations are built once.</summary>
public sealed class SmokeRunFolder : IDisposable
{
    readonly TempFolder folder = new("tsae-snapshots-");

    public string Root => folder.Path;

    public RunEnvironment Environment(string repositoryRoot) =>
        new(repositoryRoot, Path.Combine(Root, "cache"), Path.Combine(Root, "results"));

    public void Dispose() => folder.Dispose();
}

[Collection(nameof(SmokeRuns))]
public sealed class SmokeSnapshotTests(SmokeRunFolder folder, ITestOutputHelper output)
{
    public const string Profile = "smoke";

    static readonly string RepositoryRoot = RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory);
    static readonly string Experiments = Path.Combine(RepositoryRoot, "experiments");
    static readonly string SnapshotFolder = Path.Combine(RepositoryRoot, "tests", "TemporalSae.Tests", "Snapshots");

    /// <summary>The manifest trains its model or loads one committed in the repository, so a clean clone can run it.</summary>
    static bool RunsFromTheRepository(string name)
    {
        SubjectModelConfig model = ManifestLoader.Load(ManifestLoader.PathOf(Experiments, name)).Config.SubjectModel;
        if (model.Kind == "builtin") return true;
        if (model.Path.Contains("${", StringComparison.Ordinal)) return false;
        string folder = Path.GetFullPath(model.Path, RepositoryRoot);
        return ManifestLoader.IsInside(folder, RepositoryRoot) && Directory.Exists(folder);
    }

    static IEnumerable<string> Runs(bool fromRepository) =>
        ManifestLoader.ListExperiments(Experiments).Where(name => RunsFromTheRepository(name) == fromRepository);

    public static TheoryData<string> RunnableExperiments() => new(Runs(fromRepository: true));

    public static TheoryData<string> OutsideModelExperiments() => new(Runs(fromRepository: false));

    static LoadedManifest LoadSmoke(string name)
    {
        string path = ManifestLoader.PathOf(Experiments, name);
        return ManifestLoader.Load(path, profilePath: ManifestProfiles.PathOf(path, Profile));
    }

    [Theory]
    [MemberData(nameof(RunnableExperiments))]
    public void Smoke_run_matches_its_verified_snapshot(string name)
    {
        LoadedManifest manifest = LoadSmoke(name);
        var log = new StringWriter();
        var spec = new ExperimentSpec(manifest.Config, Path.GetRelativePath(RepositoryRoot, manifest.Path).Replace('\\', '/'), manifest.ManifestHash);
        string resultPath = new ExperimentRunner(Stages.Registry, folder.Environment(RepositoryRoot), log).Run(spec);
        output.WriteLine(log.ToString());

        var result = JsonNode.Parse(File.ReadAllText(resultPath))!.AsObject();
        JsonSnapshot.Match(result, Path.Combine(SnapshotFolder, $"{name}.verified.json"), Tolerance.Snapshot, JsonSnapshot.Accepting, CountsFewExamples);
    }

    static bool CountsFewExamples(string path) =>
        path.StartsWith("evals.unlearning.", StringComparison.Ordinal)
        || path.StartsWith("evals.sparse_probing.", StringComparison.Ordinal)
        || path.StartsWith("evals.stability.", StringComparison.Ordinal)
        || (path.StartsWith("evals.smoothness.", StringComparison.Ordinal)
            && (path.EndsWith(".persistence", StringComparison.Ordinal) || path.EndsWith(".distinct_latents_per_sequence", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(OutsideModelExperiments))]
    public void Manifest_on_an_outside_checkpoint_validates_as_it_is_and_under_the_smoke_profile(string name)
    {
        string kind = ManifestLoader.Load(ManifestLoader.PathOf(Experiments, name)).Config.SubjectModel.Kind;
        Assert.Equal(kind, LoadSmoke(name).Config.SubjectModel.Kind);
    }

    [Fact]
    public void Every_verified_snapshot_belongs_to_a_runnable_experiment()
    {
        var runnable = Runs(fromRepository: true).ToHashSet();
        foreach (string file in Directory.EnumerateFiles(SnapshotFolder, "*.verified.json"))
        {
            string name = Path.GetFileName(file)[..^".verified.json".Length];
            Assert.True(runnable.Contains(name),
                $"{file} has no experiment experiments/{name}.yaml that runs from the repository (a built-in or committed model); delete the snapshot or restore the manifest.");
        }
    }
}
