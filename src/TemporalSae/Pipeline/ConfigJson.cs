using System.Text.Json;
using System.Text.Json.Nodes;

namespace TemporalSae.Pipeline;

/// <summary>Configuration records as JSON with the manifest's snake_case keys, in schema declaration order.</summary>
public static class ConfigJson
{
    static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static JsonNode ToNode<T>(T record) where T : notnull => JsonSerializer.SerializeToNode(record, Options)!;
}
