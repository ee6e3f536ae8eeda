using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TemporalSae.Manifests;

// Reads YAML text into a ManifestNode tree with line/column marks, using YamlDotNet's event parser (not its
// deserialiser, which would drop marks and silently take the last of two duplicate keys). Every YAML problem
// becomes an InvalidInputException naming the source, line and column.

static partial class YamlManifestReader
{
    const string StringTag = "tag:yaml.org,2002:str";

    /// <summary>Reads a whole manifest file's text; the top level must be a non-empty mapping.</summary>
    public static MappingNode ReadDocument(string text, string source)
    {
        RejectTabIndentation(text, source);
        ManifestNode? root = Parse(text, source, isOverride: false, columnOffset: 0);
        if (root is null || root is ScalarNode { IsNull: true })
            throw ManifestErrors.At(new SourceLocation(source, 1, 1), "the manifest is empty.",
                "Expected a mapping of keys, e.g. `extends: _base.yaml` and `stages: [data]`.");
        if (root is not MappingNode mapping)
            throw ManifestErrors.At(root.Location, $"the top level of a manifest must be a mapping (key: value lines), but it is {root.Describe()}.");
        return mapping;
    }

    /// <summary>Reads the value of a `--set key=value` override as one YAML node (a scalar or a flow list/mapping).</summary>
    public static ManifestNode ReadOverrideValue(string valueText, string overrideText, int columnOffset)
    {
        ManifestNode? node = Parse(valueText, overrideText, isOverride: true, columnOffset);
        return node ?? new ScalarNode(new SourceLocation(overrideText, 1, columnOffset + 1, true), "", isPlain: true);
    }

    static ManifestNode? Parse(string text, string source, bool isOverride, int columnOffset)
    {
        var reader = new EventReader(source, isOverride, columnOffset);
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.MoveNext(); // StreamStart
            Next(parser);
            if (parser.Current is StreamEnd) return null;
            Next(parser); // past DocumentStart
            ManifestNode root = reader.ReadNode(parser, path: "");
            Next(parser); // past DocumentEnd
            if (parser.Current is not StreamEnd)
                throw ManifestErrors.At(reader.Location(parser.Current!.Start),
                    "a second YAML document (after `---`) is not allowed; a manifest is one document.");
            return root;
        }
        catch (YamlException e)
        {
            throw ManifestErrors.At(reader.Location(e.Start), $"invalid YAML: {CleanMessage(e.Message)}",
                "Check the indentation (spaces only), the `key: value` colons and matching quotes and brackets.");
        }
    }

    static void Next(IParser parser)
    {
        if (!parser.MoveNext()) throw new YamlException("unexpected end of the text");
    }

    /// <summary>YAML forbids tabs in indentation; YamlDotNet's own message for them is cryptic, so find them first.</summary>
    static void RejectTabIndentation(string text, string source)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            for (int c = 0; c < line.Length && (line[c] == ' ' || line[c] == '\t'); c++)
                if (line[c] == '\t')
                    throw ManifestErrors.At(new SourceLocation(source, i + 1, c + 1),
                        "a tab character in the indentation; YAML allows only spaces for indentation.",
                        "Replace the tab with spaces (this project's manifests indent by 2 spaces).");
        }
    }

    /// <summary>YamlException messages start with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; we print our own marks.</summary>
    static string CleanMessage(string message)
    {
        string cleaned = MarkPrefix().Replace(message, "").Trim();
        return cleaned.Length == 0 ? "the text cannot be parsed" : char.ToLowerInvariant(cleaned[0]) + cleaned[1..];
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    sealed class EventReader(string source, bool isOverride, int columnOffset)
    {
        readonly Dictionary<string, ManifestNode> anchors = new(StringComparer.Ordinal);

        public SourceLocation Location(Mark mark) =>
            new(source, Math.Max((int)mark.Line, 1), Math.Max((int)mark.Column, 1) + columnOffset, isOverride);

        public ManifestNode ReadNode(IParser parser, string path)
        {
            ParsingEvent current = parser.Current!;
            ManifestNode node;
            switch (current)
            {
                case AnchorAlias alias:
                    if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                        throw ManifestErrors.At(Location(alias.Start), $"the alias `*{alias.Value.Value}` names no anchor defined before it.");
                    Next(parser);
                    return anchored;
                case Scalar scalar:
                    node = new ScalarNode(Location(scalar.Start), scalar.Value, IsPlain(scalar));
                    Remember(scalar.Anchor, node);
                    Next(parser);
                    return node;
                case SequenceStart start:
                {
                    RejectTag(start.Tag, start.Start, path);
                    Next(parser);
                    var items = new List<ManifestNode>();
                    while (parser.Current is not SequenceEnd)
                        items.Add(ReadNode(parser, $"{path}[{items.Count}]"));
                    Next(parser);
                    node = new SequenceNode(Location(start.Start), items);
                    Remember(start.Anchor, node);
                    return node;
                }
                case MappingStart start:
                {
                    RejectTag(start.Tag, start.Start, path);
                    Next(parser);
                    var entries = new List<KeyValuePair<ScalarNode, ManifestNode>>();
                    while (parser.Current is not MappingEnd)
                    {
                        if (parser.Current is not Scalar keyEvent)
                            throw ManifestErrors.At(Location(parser.Current!.Start),
                                $"a key in `{(path.Length == 0 ? "the top level" : path)}` is not plain text; keys must be names like `batch_size`.");
                        var key = new ScalarNode(Location(keyEvent.Start), keyEvent.Value, isPlain: true);
                        string keyPath = path.Length == 0 ? key.Value : $"{path}.{key.Value}";
                        var first = entries.FirstOrDefault(e => e.Key.Value == key.Value).Key;
                        if (first is not null)
                            throw ManifestErrors.At(key.Location, $"duplicate key `{keyPath}`.",
                                $"It is already given at line {first.Location.Line}; keep one of the two.");
                        Next(parser);
                        entries.Add(new(key, ReadNode(parser, keyPath)));
                    }
                    Next(parser);
                    node = new MappingNode(Location(start.Start), entries);
                    Remember(start.Anchor, node);
                    return node;
                }
                default:
                    throw ManifestErrors.At(Location(current.Start), $"unexpected YAML element `{current.GetType().Name}`.");
            }
        }

        bool IsPlain(Scalar scalar)
        {
            if (scalar.Tag.IsEmpty) return scalar.Style == ScalarStyle.Plain;
            if (scalar.Tag.Value == StringTag) return false;
            throw ManifestErrors.At(Location(scalar.Start), $"the YAML tag `{scalar.Tag.Value}` is not supported.",
                "Write the value without a tag; its type comes from the manifest schema.");
        }

        void RejectTag(YamlDotNet.Core.TagName tag, Mark start, string path)
        {
            if (!tag.IsEmpty)
                throw ManifestErrors.At(Location(start), $"the YAML tag `{tag.Value}` on `{path}` is not supported.");
        }

        void Remember(YamlDotNet.Core.AnchorName anchor, ManifestNode node)
        {
            if (!anchor.IsEmpty) anchors[anchor.Value] = node;
        }
    }
}
