// data.tokenizer resolved against the subject model's checkpoint folder: which tokenizer, what the data stage key
// adds (nothing for GPT-2's BPE, so existing keys hold), and the errors for what cannot work.
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Pipeline;
using TemporalSae.Tests.Fixtures;

namespace TemporalSae.Tests.Data;

public sealed class CorpusTokenizerTests : IDisposable
{
    readonly TempFolder checkpoint = new("tsae-ckpt-");
    readonly RunEnvironment environment = RunEnvironment.ForRepository(RunEnvironment.FindRepositoryRoot(AppContext.BaseDirectory));

    public void Dispose() => checkpoint.Dispose();

    ExperimentConfig Config(string kind, string tokenizer = "auto")
    {
        File.WriteAllText(checkpoint.File("config.json"), $"{{\"model_type\": \"{kind}\"}}");
        return new ExperimentConfig
        {
            Data = new DataConfig { Tokenizer = tokenizer },
            SubjectModel = new SubjectModelConfig { Kind = kind, Path = checkpoint.Path },
        };
    }

    [Fact]
    public void Auto_takes_the_checkpoints_files_when_it_has_them_and_gpt2s_bpe_otherwise()
    {
        Assert.False(CorpusTokenizer.Resolve(Config("gpt2"), environment).IsSubjectModels);
        Assert.Null(CorpusTokenizer.Resolve(Config("gpt2"), environment).KeyMaterial());
        Assert.False(CorpusTokenizer.Resolve(new ExperimentConfig(), environment).IsSubjectModels);

        TinyTokenizers.WriteGpt2Bpe(checkpoint);
        CorpusTokenizer gpt2 = CorpusTokenizer.Resolve(Config("gpt2"), environment);
        Assert.Equal(["vocab.json", "merges.txt"], gpt2.Files);
        Assert.NotNull(gpt2.KeyMaterial()!["tokenizer"]!["files"]!["merges.txt"]);
        Assert.False(CorpusTokenizer.Resolve(Config("gpt2", "gpt2"), environment).IsSubjectModels);

        TinyTokenizers.WriteSentencePiece(checkpoint.File("tokenizer.model"));
        Assert.Equal(["tokenizer.model"], CorpusTokenizer.Resolve(Config("gemma2"), environment).Files);
    }

    [Fact]
    public void The_published_model_without_tokenizer_files_keeps_gpt2s_bpe_and_adds_nothing_to_the_key()
    {
        ExperimentConfig run0 = ManifestLoader.Load(Path.Combine(environment.RepositoryRoot, "experiments", "run0.yaml")).Config;
        Assert.Null(new DataStage().ExternalKeyMaterial(run0, environment));
        new DataStage().CheckInputs(run0, environment);
    }

    [Fact]
    public void What_cannot_work_is_refused_naming_the_key_the_folder_and_the_fix()
    {
        string Error(ExperimentConfig config) => Assert.Throws<InvalidInputException>(() =>
            CorpusTokenizer.Resolve(config, environment).CheckAgainst(config.Data)).Message;

        string missing = Error(Config("gpt2", "subject_model"));
        Assert.Contains("data.tokenizer is subject_model", missing);
        Assert.Contains(checkpoint.Path, missing);
        Assert.Contains("vocab.json + merges.txt", missing);

        Assert.Contains("tokenizer.model", Error(Config("gemma2")));
        Assert.Contains("a Gemma-2 model reads its own SentencePiece ids", Error(Config("gemma2", "gpt2")));
        Assert.Contains("subject_model.kind is builtin", Error(new ExperimentConfig { Data = new DataConfig { Tokenizer = "subject_model" } }));

        File.WriteAllText(checkpoint.File("vocab.json"), "{}");
        Assert.Contains("has vocab.json but not merges.txt", Error(Config("gpt2")));

        TinyTokenizers.WriteGpt2Bpe(checkpoint);
        ExperimentConfig cut = Config("gpt2");
        cut = cut with { Data = cut.Data with { BpeVocab = 8191 } };
        Assert.Contains("set data.bpe_vocab: 50257, or data.tokenizer: gpt2", Error(cut));
    }
}
