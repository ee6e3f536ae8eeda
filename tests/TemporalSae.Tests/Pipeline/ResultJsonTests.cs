using System.Text.Json.Nodes;
using TemporalSae.Results;

namespace TemporalSae.Tests.Pipeline;

public class ResultJsonTests
{
    [Fact]
    public void Keeps_key_order_formats_numbers_fixed_and_uses_lf()
    {
        var node = new JsonObject
        {
            ["zeta"] = 1,
            ["alpha"] = 0.123456789,
            ["big"] = 3.0,
            ["list"] = new JsonArray(1, 2.5, "x"),
            ["nested"] = new JsonObject { ["flag"] = true, ["tiny"] = 1.5e-7 },
        };
        string text = ResultJson.Serialize(node);
        Assert.Equal(
            "{\n  \"zeta\": 1,\n  \"alpha\": 0.123457,\n  \"big\": 3.0,\n  \"list\": [1, 2.5, \"x\"],\n" +
            "  \"nested\": {\n    \"flag\": true,\n    \"tiny\": 1.5E-07\n  }\n}\n", text);
        Assert.Equal(text, ResultJson.Serialize(JsonNode.Parse(text)!));
    }

    [Fact]
    public void Refuses_nan_and_infinity_naming_the_path()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ResultJson.Serialize(new JsonObject { ["core"] = new JsonObject { ["cossim"] = double.NaN } }));
        Assert.Contains("$.core.cossim", e.Message);
    }
}
