using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Saes;
using TemporalSae.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;

namespace TemporalSae.Tests.Saes;

public sealed class SaeRegistryAndExportTests : IDisposable
{
    readonly TempFolder folder = new("tsae-export-");

    public void Dispose()
    {
        folder.Dispose();
    }

    [Fact]
    public void Unknown_architecture_lists_the_known_ones()
    {
        var e = Assert.Throws<InvalidInputException>(() => SaeRegistry.Default.Create(new SaeConfig { Architecture = "relu" }, 8, 1));
        Assert.Contains("unknown architecture `relu`", e.Message);
        Assert.Contains("batchtopk, standard, temporal, topk, tsae-contrastive", e.Message);
    }

    [Fact]
    public void Readme_holds_the_generated_architecture_table()
    {
        string readme = Path.Combine(TemporalSae.Pipeline.RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory), "README.md");
        string text = File.ReadAllText(readme).Replace("\r\n", "\n");
        int begin = text.IndexOf(SaeRegistry.TableBeginMarker, StringComparison.Ordinal);
        int end = text.IndexOf(SaeRegistry.TableEndMarker, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{readme} has no architecture table; paste `tsae validate --architectures` between its markers");
        Assert.Equal(SaeRegistry.Default.Table().Trim('\n'), text[(begin + SaeRegistry.TableBeginMarker.Length)..end].Trim('\n'));
    }

    [Fact]
    public void Every_architecture_declares_what_the_pipeline_asks_of_it()
    {
        foreach (string key in SaeRegistry.Default.Keys)
        {
            var architecture = SaeRegistry.Default[key];
            var sae = new SaeConfig { Architecture = key, DSae = 24, K = 4 };
            Assert.False(string.IsNullOrWhiteSpace(architecture.Description));
            // Every coefficient's keys are keys the architecture reads, so a run may set them.
            foreach (var coefficient in architecture.LossCoefficients(new TrainingConfig(), sae))
            {
                Assert.Contains(coefficient.Key, architecture.Keys);
                if (coefficient.WarmupKey is not null) Assert.Contains(coefficient.WarmupKey, architecture.Keys);
            }
            using var model = architecture.Create(sae, 8, 5);
            Assert.Equal(key, model.Architecture);
            Assert.True(architecture.EstimatePeakBytes(new SaeStepShapes(256, 128, 8, 24), sae) > 0);
        }
    }

    [Fact]
    public void Duplicate_registration_is_an_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            SaeRegistry.Default.With(new StandardArchitecture()));
        Assert.Contains("registered twice", e.Message);
    }

    public static TheoryData<string> Architectures() => new(SaeRegistry.Default.Keys);

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Initialisation_is_never_zero_and_encoder_is_the_decoder_transpose(string architecture)
    {
        using var sae = SaeRegistry.Default.Create(new SaeConfig { Architecture = architecture, DSae = 24, K = 4 }, 8, 5);
        var p = sae.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        Assert.True(p["W_dec"].abs().sum().item<float>() > 0);
        Assert.True(p["W_enc"].allclose(p["W_dec"].t()));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void SaeLens_export_imports_back_to_the_same_features(string architecture)
    {
        var config = new SaeConfig { Architecture = architecture, DSae = 24, K = 4 };
        using var sae = SaeRegistry.Default.Create(config, 8, 5);
        using (no_grad())
            foreach (var (_, parameter) in sae.named_parameters()) parameter.add_(rand_like(parameter).mul_(0.1f));
        SaeLensFormat.Export(sae, SaeRegistry.Default[config.Architecture], config, new SaeLensMetadata("tiny", "blocks.0.hook_resid_post", 0, 16), folder);

        var (imported, importedConfig) = SaeLensFormat.Import(folder, SaeRegistry.Default);
        using var x = randn(2, 16, 8);
        var batch = new ActivationBatch(x, zeros(2, 16, ScalarType.Int64), zeros(2, 16, ScalarType.Int64), zeros(2, 16, ScalarType.Bool));
        Assert.Equal(config, importedConfig with { Temporal = config.Temporal });
        Assert.True(sae.Encode(batch).allclose(imported.Encode(batch), rtol: 0, atol: 0));
        string cfg = File.ReadAllText(Path.Combine(folder, SaeLensFormat.ConfigFile));
        Assert.Contains("\"hook_name\": \"blocks.0.hook_resid_post\"", cfg);
        Assert.Contains("\"d_sae\": 24", cfg);
    }

    [Fact]
    public void Import_reports_missing_and_misshaped_tensors()
    {
        var config = new SaeConfig { DSae = 24 };
        using var sae = SaeRegistry.Default.Create(config, 8, 5);
        SaeLensFormat.Export(sae, SaeRegistry.Default[config.Architecture], config, new SaeLensMetadata("tiny", "blocks.0.hook_resid_post", 0, 16), folder);
        string cfgPath = Path.Combine(folder, SaeLensFormat.ConfigFile);
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("\"d_in\": 8", "\"d_in\": 9"));
        var e = Assert.Throws<InvalidInputException>(() => SaeLensFormat.Import(folder, SaeRegistry.Default));
        Assert.Contains("W_enc has shape [8, 24], expected [9, 24]", e.Message);
    }

    [Theory]
    [InlineData("standard")]
    [InlineData("topk")]
    [InlineData("batchtopk")]
    public void Folding_an_input_scale_keeps_features_and_reconstructs_raw_inputs(string architecture)
    {
        using var sae = SaeRegistry.Default.Create(new SaeConfig { Architecture = architecture, DSae = 24, K = 4 }, 8, 5);
        using (no_grad())
        {
            foreach (var (_, parameter) in sae.named_parameters()) parameter.add_(rand_like(parameter).mul_(0.1f));
            // A learned BatchTopK threshold, so that inference compares pre-activations with it.
            foreach (var (name, buffer) in sae.named_buffers()) if (name == "threshold") buffer.fill_(0.05);
        }
        using var x = randn(32, 8);
        const double scale = 2.5;
        using var scaled = x * scale;
        using var fBefore = sae.Encode(new ActivationBatch(scaled));
        using var reconstructionBefore = sae.Decode(fBefore) / scale;
        sae.FoldInputScale(scale);
        using var fAfter = sae.Encode(new ActivationBatch(x));
        Assert.True(fBefore.allclose(fAfter, rtol: 1e-4, atol: 1e-5));
        Assert.True(reconstructionBefore.allclose(sae.Decode(fAfter), rtol: 1e-4, atol: 1e-5));
    }
}
