using TemporalSae.Manifests;

namespace TemporalSae.Tests.Manifests;

// The README's manifest key table is generated from the schema records; these tests fail as soon as a key, default,
// bound or description changes without the README being regenerated with
// `tsae validate --schema`.

public sealed class ManifestDocsTests
{
    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TemporalSae.sln"))) return dir.FullName;
        throw new InvalidOperationException($"TemporalSae.sln not found above {AppContext.BaseDirectory}");
    }

    static string Between(string text, string file)
    {
        text = text.Replace("\r\n", "\n");
        int begin = text.IndexOf(ManifestDocs.BeginMarker, StringComparison.Ordinal);
        int end = text.IndexOf(ManifestDocs.EndMarker, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin,
            $"{file} has no {ManifestDocs.BeginMarker} ... {ManifestDocs.EndMarker} section; paste the output of `tsae validate --schema` into it.");
        return text[(begin + ManifestDocs.BeginMarker.Length)..end].Trim('\n');
    }

    [Fact]
    public void Readme_holds_the_generated_key_table()
    {
        string readme = Path.Combine(RepositoryRoot(), "README.md");
        Assert.Equal(ManifestDocs.KeyTable().Trim('\n'), Between(File.ReadAllText(readme), readme));
    }

    [Fact]
    public void Every_key_has_a_row_with_a_description()
    {
        string table = ManifestDocs.KeyTable();
        var rows = table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToList();
        Assert.All(rows, row => Assert.False(row.TrimEnd().EndsWith("|  |", StringComparison.Ordinal), $"undocumented key: {row}"));
        Assert.Contains("| `training.lr_warmup_steps` | int | `100` | 0 to 1e9 | Steps of linear learning-rate warm-up from 0. |", rows);
        Assert.Contains("| `data.source` | string | `npm` | `npm`, `folder` |", table);
        Assert.Contains("| `sae.temporal.levels[].scales` | list of int | `[1]` |", table);
        Assert.Contains("| `stages` | list of string | `[data]` | each `data`, `subject_model`, `activations`, `sae`, `evals` |", table);
        Assert.Contains("E\\|\\|x\\|\\|", table); // pipes inside a description are escaped
        Assert.StartsWith("| Key | Type | Default | Allowed | Description |\n|---|---|---|---|---|\n| `extends` |", table);
    }
}
