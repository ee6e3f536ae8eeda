using TemporalSae.Infrastructure;
using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

public sealed class EnvironmentExpansionTests
{
    static string? Lookup(string name) => name switch { "MODELS" => "/data/models", "EMPTY" => "", _ => null };

    [Fact]
    public void Expands_every_reference()
    {
        Assert.Equal("/data/models/gpt2/data/models", EnvironmentExpansion.Expand("${MODELS}/gpt2${MODELS}", "subject_model.path", Lookup));
        Assert.Equal("plain/$path", EnvironmentExpansion.Expand("plain/$path", "subject_model.path", Lookup));
    }

    [Fact]
    public void A_missing_variable_fails_naming_the_variable_and_the_key()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            EnvironmentExpansion.Expand("${GEMMA_DIR}/gemma-2-2b", "subject_model.path", Lookup));
        Assert.Contains("`subject_model.path` is `${GEMMA_DIR}/gemma-2-2b`, which needs the environment variable GEMMA_DIR", e.Message);
        Assert.Contains("--set subject_model.path=", e.Message);
    }

    [Fact]
    public void An_empty_variable_counts_as_missing()
    {
        Assert.Equal(["EMPTY", "NOPE"], EnvironmentExpansion.Missing("${MODELS}/${EMPTY}/${NOPE}", Lookup));
        Assert.Equal(["MODELS", "EMPTY", "NOPE"], EnvironmentExpansion.Variables("${MODELS}/${EMPTY}/${NOPE}/${MODELS}"));
    }

    [Theory]
    [InlineData("${}")]
    [InlineData("${1DIR}")]
    [InlineData("${DIR")]
    [InlineData("ok/${A}/${B-C}")]
    public void Malformed_references_are_reported(string value)
    {
        Assert.NotNull(EnvironmentExpansion.SyntaxProblem(value));
        Assert.Throws<InvalidInputException>(() => EnvironmentExpansion.Expand(value, "data.folder", Lookup));
    }
}
