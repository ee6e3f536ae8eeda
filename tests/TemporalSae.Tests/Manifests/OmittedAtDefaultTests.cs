// Keys marked [OmittedAtDefault] leave the canonical form (YAML, JSON, hash) untouched at their default, so manifests
// and stage keys from before such a key existed stay valid; set to anything else they appear like any key.
using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

public sealed class OmittedAtDefaultTests : IDisposable
{
    readonly ManifestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void A_key_at_its_default_is_not_in_the_canonical_form_and_does_not_change_the_hash()
    {
        // One file name, so the name the canonical form records is the same.
        folder.Write("plain/run.yaml", "seed: 3\n");
        folder.Write("auto/run.yaml", "seed: 3\ndata:\n  tokenizer: auto\n");
        LoadedManifest plain = folder.Load("plain/run.yaml"), auto = folder.Load("auto/run.yaml");
        Assert.Equal(plain.ManifestHash, auto.ManifestHash);
        Assert.Equal(plain.CanonicalYaml, auto.CanonicalYaml);
        Assert.DoesNotContain("tokenizer", auto.CanonicalYaml);
        Assert.Null(auto.CanonicalJson()["data"]!["tokenizer"]);
    }

    [Fact]
    public void A_key_set_to_another_value_is_in_every_canonical_form_and_loads_back()
    {
        folder.Write("plain.yaml", "seed: 3\n");
        folder.Write("gpt2.yaml", "seed: 3\ndata:\n  tokenizer: gpt2\n");
        LoadedManifest plain = folder.Load("plain.yaml"), gpt2 = folder.Load("gpt2.yaml");
        Assert.NotEqual(plain.ManifestHash, gpt2.ManifestHash);
        Assert.Contains("  tokenizer: gpt2\n", gpt2.CanonicalYaml);
        Assert.Equal("gpt2", gpt2.CanonicalJson()["data"]!["tokenizer"]!.GetValue<string>());
        folder.Write("canonical.yaml", gpt2.CanonicalYaml);
        Assert.Equal(gpt2.ManifestHash, folder.Load("canonical.yaml").ManifestHash);
    }
}
