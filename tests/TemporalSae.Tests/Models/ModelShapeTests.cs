// Parameter counts of known shapes, and a config.json's shape against the tensors its model really has.
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Models;

public class ModelShapeTests
{
    [Fact]
    public void Published_shapes_have_their_published_parameter_counts()
    {
        Assert.Equal(2_614_341_888, ModelShape.Gemma2_2B.Parameters);   // google/gemma-2-2b
        Assert.Equal(124_439_808, ModelShape.Gpt2Small.Parameters);      // GPT-2 small
    }

    [Fact]
    public void A_config_jsons_shape_counts_the_parameters_its_model_has()
    {
        ModelShape gemma = ModelShape.FromConfigJson(Path.Combine(FixtureCheckpoint.Root, "gemma2-tiny", "config.json"));
        var config = Gemma2Config.Parse(File.ReadAllText(Path.Combine(FixtureCheckpoint.Root, "gemma2-tiny", "config.json")));
        Assert.Equal(Gemma2Model.ExpectedWeightShapes(config).Values.Sum(s => s.Aggregate(1L, (a, b) => a * b)), gemma.Parameters);

        ModelShape gpt2 = ModelShape.FromConfigJson(Path.Combine(FixtureCheckpoint.Root, "gpt2-tiny", "config.json"));
        using Gpt2Model model = Gpt2Model.Load(Path.Combine(FixtureCheckpoint.Root, "gpt2-tiny"));
        Assert.Equal(model.parameters().Sum(p => p.numel()), gpt2.Parameters);
        Assert.Equal(4, gpt2.StoredBytesPerParameter);
    }

    [Fact]
    public void A_present_checkpoint_must_match_the_shape_subject_model_config_names()
    {
        var config = new SubjectModelConfig { Kind = "gemma2", Path = Path.Combine(FixtureCheckpoint.Root, "gemma2-tiny"), Config = "google/gemma-2-2b" };
        var e = Assert.Throws<InvalidInputException>(() => ModelShape.Of(config, FixtureCheckpoint.Root));
        Assert.Contains("subject_model.config is google/gemma-2-2b", e.Message);
        Assert.Contains("set subject_model.config: checkpoint", e.Message);
        Assert.Equal(32, ModelShape.Of(config with { Config = "checkpoint" }, FixtureCheckpoint.Root)!.DModel);
        Assert.Same(ModelShape.Gemma2_2B, ModelShape.Of(config with { Path = "${TSAE_NO_SUCH_CHECKPOINT}" }, FixtureCheckpoint.Root));
        Assert.Null(ModelShape.Of(config with { Path = "${TSAE_NO_SUCH_CHECKPOINT}", Config = "checkpoint" }, FixtureCheckpoint.Root));
    }
}
