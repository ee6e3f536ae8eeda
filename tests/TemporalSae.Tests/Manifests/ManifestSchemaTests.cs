using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

public sealed class ManifestSchemaTests
{
    [Theory]
    [InlineData("DSae", "d_sae")]
    [InlineData("LrWarmupSteps", "lr_warmup_steps")]
    [InlineData("AuxKCoefficient", "aux_k_coefficient")]
    [InlineData("L1Coefficient", "l1_coefficient")]
    [InlineData("AdamBeta2", "adam_beta2")]
    [InlineData("MemoryLimitMb", "memory_limit_mb")]
    [InlineData("SubjectModel", "subject_model")]
    [InlineData("K", "k")]
    public void Properties_map_to_snake_case_keys(string property, string key) =>
        Assert.Equal(key, ManifestSchema.SnakeCase(property));

    [Fact]
    public void The_experiment_schema_has_keys_in_declaration_order()
    {
        var root = ManifestSchema.Root;
        Assert.Equal(["name", "title", "description", "seed", "threads", "stages", "data", "subject_model", "activations", "sae", "training", "evals"],
            root.Properties.Select(p => p.Key));
        var training = root.Find("training")!.Type.Record!;
        Assert.Equal(["tokens", "batch_size", "learning_rate", "lr_warmup_steps"], training.Properties.Take(4).Select(p => p.Key));
    }

    [Fact]
    public void Every_default_satisfies_its_own_bounds_and_allowed_values()
    {
        Check(ManifestSchema.Root, new ExperimentConfig());

        static void Check(SchemaRecord record, object instance)
        {
            foreach (var property in record.Properties)
            {
                object value = property.Property.GetValue(instance)!;
                if (property.Type.Kind == ValueKind.Record) Check(property.Type.Record!, value);
                if (property.Range is { } range && value is IConvertible number)
                    Assert.InRange(Convert.ToDouble(number, System.Globalization.CultureInfo.InvariantCulture), range.Min, range.Max);
                if (property.OneOf is { } allowed && value is string text)
                    Assert.Contains(text, allowed);
            }
        }
    }

    sealed record Unsupported
    {
        public float Ratio { get; init; }
    }

    [Fact]
    public void Types_outside_the_manifest_vocabulary_are_refused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ManifestSchema.For(typeof(Unsupported)));
        Assert.Contains("Single is not supported", e.Message);
    }
}
