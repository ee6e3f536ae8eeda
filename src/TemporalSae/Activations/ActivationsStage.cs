// The activations stage: runs the subject model over the training split in context windows, stopping after the
// hooked block, and stores blocks.L.hook_resid_post with every token's metadata in a memory-mapped store. Then one
// pass over validation windows in stratified order (every source and label in proportion, WindowSampling) reports
// the hook's activation spectrum and the model's held-out cross-entropy beside an add-k bigram (HeldoutAnalysis).
using System.Text.Json.Nodes;
using TemporalSae.Data;
using TemporalSae.Infrastructure;
using TemporalSae.Manifests;
using TemporalSae.Models;
using TemporalSae.Pipeline;
using static TorchSharp.torch;

namespace TemporalSae.Activations;

public sealed class ActivationsStage : Stage
{
    const string StoreFolder = "store";

    public override string Name => "activations";
    public override IReadOnlyList<string> DependsOn => ["data", "subject_model"];
    public override int Version => 3;

    public override JsonNode KeyMaterial(ExperimentConfig config)
    {
        JsonObject sections = Sections(config, "activations");
        sections["context_size"] = config.Data.ContextSize;
        return sections;
    }

    public override JsonObject Build(StageContext context, string folder)
    {
        ExperimentConfig config = context.Config;
        PreparedData data = DataStage.Load(context.Input("data"));
        using LoadedSubjectModel subject = SubjectModelStage.Open(context.Input("subject_model"), config.SubjectModel);
        int layer = HookLayer(config.Activations.Hook, subject.Model);

        ContextWindows windows = data.Windows(Split.Train, config.Data.ContextSize);
        int[] chosen = ChooseWindows(windows.Count, config.Activations.TrainTokens / windows.ContextSize, context.Seed);
        var dtype = config.Activations.Dtype == "bfloat16" ? ActivationDtype.BFloat16 : ActivationDtype.Float32;
        using var writer = ActivationStoreWriter.Create(Path.Combine(folder, StoreFolder), subject.Model.DModel, windows.ContextSize,
            dtype, data.Corpus.Labels, data.Corpus.PosTags);

        double normSum = 0;
        int batchSize = config.Activations.BatchSize;
        using (no_grad())
        {
            for (int start = 0; start < chosen.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int[] batch = chosen[start..Math.Min(chosen.Length, start + batchSize)];
                TokenMetadata tokens = windows.Gather(batch);
                Tensor ids = subject.ToModelIds(tensor(tokens.TokenIds.Select(i => (long)i).ToArray()).reshape(batch.Length, windows.ContextSize));
                Tensor resid = subject.Model.Forward(ids, new ResidHook(layer, StopAfter: true)).ResidPost!; // [B, T, d]
                normSum += resid.to(ScalarType.Float64).norm(dim: -1).sum().item<double>();
                writer.Append(resid, tokens);
                if ((start / batchSize) % 20 == 0)
                    context.Log.WriteLine($"[activations] {start + batch.Length}/{chosen.Length} windows");
            }
        }
        writer.Complete();

        ContextWindows heldout = data.Windows(Split.Val, config.Data.ContextSize);
        int[] heldoutChosen = HeldoutWindows(heldout, config.Activations.HeldoutTokens, ContentHash.DeriveSeed(context.Seed, "heldout_windows"));
        int heldoutCount = heldoutChosen.Length;
        TokenMetadata heldoutTokens = heldout.Gather(heldoutChosen);
        JsonObject spectrumWindowsBySource = WindowsBySource(heldout, heldoutChosen, data.Corpus);
        JsonObject spectrum, heldoutCe;
        using (var scope = NewDisposeScope())
        {
            long[] shape = [heldoutCount, heldout.ContextSize];
            (spectrum, heldoutCe) = HeldoutAnalysis.Run(subject, layer,
                tensor(heldoutTokens.TokenIds.Select(i => (long)i).ToArray(), shape), tensor(heldoutTokens.Special, shape),
                windows.TokenIdTensor(), batchSize, context.Log.WriteLine);
        }

        long tokenCount = (long)chosen.Length * windows.ContextSize;
        return new JsonObject
        {
            ["hook"] = config.Activations.Hook,
            ["split"] = "train",
            ["sequences"] = chosen.Length,
            ["tokens"] = tokenCount,
            ["d_model"] = subject.Model.DModel,
            ["dtype"] = config.Activations.Dtype,
            ["mean_l2_norm"] = normSum / tokenCount,
            ["spectrum"] = spectrum,
            ["heldout_windows_by_source"] = spectrumWindowsBySource,
            ["heldout_cross_entropy"] = heldoutCe,
        };
    }

    /// <summary>
    /// The validation windows the spectrum and held-out cross-entropy read: as many as <paramref name="tokens"/> allow,
    /// in stratified order, so a budget smaller than the split spans every source and label (the split itself is in
    /// corpus order, and its first windows would be one source's).
    /// </summary>
    public static int[] HeldoutWindows(ContextWindows heldout, long tokens, long seed)
    {
        long wanted = tokens / heldout.ContextSize;
        if (wanted < 1) throw new InvalidInputException("activations.heldout_tokens is smaller than one context window");
        return WindowSampling.StratifiedOrder(heldout, seed)[..(int)Math.Min(heldout.Count, wanted)];
    }

    static JsonObject WindowsBySource(ContextWindows windows, int[] chosen, TokenizedCorpus corpus)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (int w in chosen)
        {
            string source = corpus.Sources[corpus.LabelSources[windows.Tokens.LabelIds[w * windows.ContextSize + windows.ContextSize - 1]]];
            counts[source] = counts.GetValueOrDefault(source) + 1;
        }
        return new JsonObject(counts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value)));
    }

    /// <summary>The store of a built artifact.</summary>
    public static ActivationStore Open(string artifactFolder) => ActivationStore.Open(Path.Combine(artifactFolder, StoreFolder));

    /// <summary>The block index of a blocks.L.hook_resid_post hook, checked against the model's depth.</summary>
    public static int HookLayer(string hook, ISubjectModel model)
    {
        int layer = ManifestRules.HookLayer(hook) ?? throw new InvalidInputException($"activations.hook: `{hook}` is not blocks.<L>.hook_resid_post");
        if (layer >= model.Layers)
            throw new InvalidInputException($"activations.hook: `{hook}` needs block {layer}, but the subject model has {model.Layers} blocks (0..{model.Layers - 1})");
        return layer;
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> window indices in a seeded random order, so a token budget smaller than the
    /// split still samples every label.
    /// </summary>
    static int[] ChooseWindows(int available, long wanted, long seed)
    {
        if (wanted < 1) throw new InvalidInputException("activations.train_tokens is smaller than one context window");
        int[] order = new SplitMix64((ulong)seed).Permutation(available);
        return order[..(int)Math.Min(available, wanted)];
    }
}
