using System.Text.Json.Nodes;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Results;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Pipeline;

public sealed class PipelineTests : IDisposable
{
    readonly TempFolder root = new("tsae-pipeline-");
    readonly StringWriter log = new();

    RunEnvironment Environment => new(root, Path.Combine(root, "cache"), Path.Combine(root, "results"));

    public void Dispose()
    {
        root.Dispose();
    }

    /// <summary>Writes seeded pseudo-random numbers; counts its builds so tests can see cache reuse.</summary>
    sealed class NumbersStage : Stage
    {
        public int Builds;
        public override string Name => "numbers";
        public override IReadOnlyList<string> DependsOn => [];
        public override int Version => 1;
        public override JsonNode KeyMaterial(ExperimentConfig config) => new JsonObject { ["context_size"] = config.Data.ContextSize };

        public override JsonObject Build(StageContext context, string folder)
        {
            Interlocked.Increment(ref Builds);
            var random = new Random((int)(context.Seed % int.MaxValue));
            double[] values = Enumerable.Range(0, 1000).Select(_ => random.NextDouble()).ToArray();
            File.WriteAllBytes(Path.Combine(folder, "values.bin"), values.SelectMany(BitConverter.GetBytes).ToArray());
            context.Measurements["values_written"] = values.Length;
            return new JsonObject { ["count"] = values.Length, ["mean"] = values.Average() };
        }
    }

    /// <summary>Reads its input's artifact: proves inputs are wired and verified.</summary>
    sealed class SumStage(bool fail = false) : Stage
    {
        public override string Name => "sum";
        public override string ResultSection => "evals";
        public override IReadOnlyList<string> DependsOn => ["numbers"];
        public override int Version => 1;
        public override JsonNode KeyMaterial(ExperimentConfig config) => new JsonObject { ["fail"] = fail };

        public override JsonObject Build(StageContext context, string folder)
        {
            if (fail) throw new RunFailedException("the sum stage failed on purpose");
            byte[] bytes = File.ReadAllBytes(Path.Combine(context.Input("numbers"), "values.bin"));
            double sum = 0;
            for (int i = 0; i < bytes.Length; i += 8) sum += BitConverter.ToDouble(bytes, i);
            return new JsonObject { ["sum"] = sum };
        }
    }

    static ExperimentSpec Spec(int contextSize = 128) => new(
        new ExperimentConfig { Name = "demo", Title = "Demo", Stages = ["sum"], Data = new DataConfig { ContextSize = contextSize } },
        "experiments/demo.yaml", "hash");

    string Run(StageRegistry registry, ExperimentSpec? spec = null) =>
        new ExperimentRunner(registry, Environment, log).Run(spec ?? Spec());

    static string WithoutProvenance(string path) =>
        ResultJson.Serialize(ResultDocument.WithoutProvenance(JsonNode.Parse(File.ReadAllText(path))!.AsObject()));

    [Fact]
    public void Same_manifest_gives_byte_identical_results_with_fresh_and_reused_cache()
    {
        var numbers = new NumbersStage();
        var registry = new StageRegistry([numbers, new SumStage()]);
        string first = WithoutProvenance(Run(registry));
        string second = WithoutProvenance(Run(registry));
        Assert.Equal(1, numbers.Builds); // second run reused the artifact
        Directory.Delete(Environment.CacheRoot, recursive: true);
        string third = WithoutProvenance(Run(registry));
        Assert.Equal(2, numbers.Builds);
        Assert.Equal(first, second);
        Assert.Equal(first, third);
        Assert.Contains("\"sum\": {", first);
        Assert.DoesNotContain("\r", File.ReadAllText(Path.Combine(Environment.ResultsFolder, "demo.json")));
    }

    [Fact]
    public void Reused_stage_reports_what_building_it_cost_in_provenance_only()
    {
        var registry = new StageRegistry([new NumbersStage(), new SumStage()]);
        Run(registry);
        string path = Run(registry); // every stage reused
        var result = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var numbers = result["provenance"]!["stages"]!["numbers"]!;
        Assert.True(numbers["from_cache"]!.GetValue<bool>());
        var build = numbers["build"]!;
        Assert.True(build["wall_seconds"]!.GetValue<double>() >= 0);
        Assert.True(build["peak_rss_mb"]!.GetValue<double>() > 0);
        Assert.Equal(1000, build["values_written"]!.GetValue<int>());
        Assert.DoesNotContain("values_written", WithoutProvenance(path));
    }

    [Fact]
    public void Changed_configuration_changes_the_key_and_rebuilds()
    {
        var numbers = new NumbersStage();
        var registry = new StageRegistry([numbers, new SumStage()]);
        Run(registry, Spec(128));
        Run(registry, Spec(64));
        Assert.Equal(2, numbers.Builds);
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("alter")]
    [InlineData("delete")]
    public void Damaged_artifact_is_detected_reported_and_rebuilt(string damage)
    {
        var numbers = new NumbersStage();
        var registry = new StageRegistry([numbers, new SumStage()]);
        string expected = WithoutProvenance(Run(registry));
        string file = Directory.EnumerateFiles(Path.Combine(Environment.CacheRoot, "numbers"), "values.bin", SearchOption.AllDirectories).Single();
        switch (damage)
        {
            case "truncate":
                using (var stream = File.OpenWrite(file)) stream.SetLength(stream.Length - 8);
                break;
            case "alter":
                byte[] bytes = File.ReadAllBytes(file);
                bytes[100] ^= 0x40;
                File.WriteAllBytes(file, bytes);
                break;
            case "delete":
                File.Delete(file);
                break;
        }
        string rebuilt = WithoutProvenance(Run(registry));
        Assert.Equal(2, numbers.Builds);
        Assert.Equal(expected, rebuilt);
        Assert.Contains("is damaged", log.ToString());
        Assert.Contains("values.bin", log.ToString());
    }

    [Fact]
    public void Failed_run_leaves_previous_results_untouched()
    {
        string path = Run(new StageRegistry([new NumbersStage(), new SumStage()]));
        byte[] before = File.ReadAllBytes(path);
        var e = Assert.Throws<RunFailedException>(() => Run(new StageRegistry([new NumbersStage(), new SumStage(fail: true)])));
        Assert.Contains("on purpose", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.EnumerateFiles(Environment.ResultsFolder).ToArray());
    }

    [Fact]
    public void Concurrent_runs_on_one_cache_agree_and_leave_a_valid_artifact()
    {
        var numbers = new NumbersStage();
        var registry = new StageRegistry([numbers, new SumStage()]);
        var cache = new ArtifactCache(Environment.CacheRoot, TextWriter.Null);
        string key = ExperimentRunner.KeyOf(numbers, Spec().Config, new Dictionary<string, string>(), RunEnvironment.ForCurrentDirectory());
        var folders = new string[8];
        Parallel.For(0, folders.Length, i =>
            folders[i] = cache.GetOrBuild("numbers", key, folder => numbers.Build(
                new StageContext(Spec().Config, 7, new Dictionary<string, string>(), Environment, TextWriter.Null), folder)).Folder);
        Assert.Single(folders.Distinct());
        Assert.Null(ArtifactCache.Verify(folders[0]));
        Assert.Single(Directory.EnumerateDirectories(Path.Combine(Environment.CacheRoot, "numbers")));
    }

    [Fact]
    public void Unknown_stage_lists_the_known_ones()
    {
        var registry = new StageRegistry([new NumbersStage(), new SumStage()]);
        var e = Assert.Throws<InvalidInputException>(() => registry.Resolve(["sums"]));
        Assert.Contains("unknown stage 'sums'", e.Message);
        Assert.Contains("numbers, sum", e.Message);
    }

    [Fact]
    public void Stage_seeds_are_derived_from_the_root_seed_and_differ_by_stage()
    {
        Assert.Equal(ContentHash.DeriveSeed(42, "sae"), ContentHash.DeriveSeed(42, "sae"));
        Assert.NotEqual(ContentHash.DeriveSeed(42, "sae"), ContentHash.DeriveSeed(42, "data"));
        Assert.NotEqual(ContentHash.DeriveSeed(42, "sae"), ContentHash.DeriveSeed(43, "sae"));
    }
}
