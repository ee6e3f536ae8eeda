// What the Temporal SAE learned about time: the mean |c_j| of its kernel per lag j over each latent level's latents.
// c starts at c_0 = 1 and c_{j>0} = 0, so a level whose lags stay near 0 has learned to ignore its past, and one with
// large lags mixes earlier positions into its codes (the point of the method; docs/science.md, "The Temporal SAE" 1).
using System.Text.Json.Nodes;
using TorchSharp;

namespace TemporalSae.Saes.Temporal;

public static class TemporalKernelReport
{
    /// <summary>mean_i |c_{j,i}| over the latents i of each level, per lag j = 0..K-1: [levels][K].</summary>
    public static double[][] MeanAbsByLevel(TemporalSparseAutoencoder sae)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var abs = sae.C.detach().abs().cpu();                                   // [K, d_sae]
        return sae.LatentLevels
            .Select(level => abs.narrow(1, level.Start, level.Count).mean([1]).to_type(torch.ScalarType.Float64)
                .data<double>().ToArray())
            .ToArray();
    }

    /// <summary>The SAE stage's summary section: the buffer K and <c>mean_abs_c_by_level</c> (level name -> K values).</summary>
    public static JsonObject ToJson(TemporalSparseAutoencoder sae)
    {
        var byLevel = new JsonObject();
        var means = MeanAbsByLevel(sae);
        for (int l = 0; l < means.Length; l++)
            byLevel[sae.LatentLevels[l].Name] = new JsonArray(means[l].Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        return new JsonObject { ["buffer"] = sae.Buffer, ["mean_abs_c_by_level"] = byLevel };
    }
}
