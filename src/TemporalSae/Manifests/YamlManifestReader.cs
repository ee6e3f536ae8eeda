using System.Text.RegularExpressions;
using TemporalSae.Infrastructure;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TemporalSae.Manifests;

// Reads YAML text into a ManifestNode tree with line/column marks, using YamlDotNet's event parser (not its
// deserialiser, which would drop marks and silently take the last of two duplicate keys). Every YAML problem
// becomes an InvalidInputException naming the source, line and column.
//
// Input is bounded here, before anything downstream sees it: this reader and the merge recurse once per nesting
// level, and an alias is a second reference to a node already built, so aliases of aliases would have the merge walk
// the same nodes exponentially often. YamlDotNet's parser does not recurse, but its scanner slows quadratically with
// open brackets (5 s for 50,000); stopping at the limit while the events stream keeps its lookahead short.

static partial class YamlManifestReader
{
    const string StringTag = "tag:yaml.org,2002:str";

    /// <summary>
    /// Deepest nesting of mappings and lists, the top-level mapping being level 1. The deepest value of a real manifest,
    /// the list `sae.temporal.levels[0].scales`, is at level 6.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>Most keys and values one manifest or override may hold, each alias counted as a copy of what it names.</summary>
    public const int MaxNodes = 10_000;

    /// <summary>Reads a whole manifest file's text; the top level must be a non-empty mapping.</summary>
    public static MappingNode ReadDocument(string text, string source)
    {
        RejectTabIndentation(text, source);
        ManifestNode? root = Parse(text, source, isOverride: false, columnOffset: 0, depth: 0);
        if (root is null || root is ScalarNode { IsNull: true })
            throw ManifestErrors.At(new SourceLocation(source, 1, 1), "the manifest is empty.",
                "Expected a mapping of keys, e.g. `extends: _base.yaml` and `stages: [data]`.");
        if (root is not MappingNode mapping)
            throw ManifestErrors.At(root.Location, $"the top level of a manifest must be a mapping (key: value lines), but it is {root.Describe()}.");
        return mapping;
    }

    /// <summary>Reads the value of a `--set key=value` override as one YAML node (a scalar or a flow list/mapping).</summary>
    /// <param name="depth">Levels of mapping the value is set in (the segments of its key path).</param>
    public static ManifestNode ReadOverrideValue(string valueText, string overrideText, int columnOffset, int depth)
    {
        ManifestNode? node = Parse(valueText, overrideText, isOverride: true, columnOffset, depth);
        return node ?? new ScalarNode(new SourceLocation(overrideText, 1, columnOffset + 1, true), "", isPlain: true);
    }

    static ManifestNode? Parse(string text, string source, bool isOverride, int columnOffset, int depth)
    {
        var reader = new EventReader(source, isOverride, columnOffset);
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.MoveNext(); // StreamStart
            Next(parser);
            if (parser.Current is StreamEnd) return null;
            Next(parser); // past DocumentStart
            ManifestNode root = reader.ReadNode(parser, path: "", depth, out _);
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
        readonly Dictionary<string, Anchored> anchors = new(StringComparer.Ordinal);
        int nodes;

        /// <summary>An anchored node with the levels it spans and the nodes it holds, which each alias to it adds again.</summary>
        readonly record struct Anchored(ManifestNode Node, int Height, int Nodes);

        public SourceLocation Location(Mark mark) =>
            new(source, Math.Max((int)mark.Line, 1), Math.Max((int)mark.Column, 1) + columnOffset, isOverride);

        /// <param name="depth">Levels of mapping and list around the node.</param>
        /// <param name="height">Levels of mapping and list the node spans, 0 for a scalar.</param>
        public ManifestNode ReadNode(IParser parser, string path, int depth, out int height)
        {
            ParsingEvent current = parser.Current!;
            int nodesBefore = nodes;
            ManifestNode node;
            switch (current)
            {
                case AnchorAlias alias:
                    if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                        throw ManifestErrors.At(Location(alias.Start), $"the alias `*{alias.Value.Value}` names no anchor defined before it.");
                    if (depth + anchored.Height > MaxDepth)
                        throw TooDeep(alias.Start, $"the alias `*{alias.Value.Value}` nests mappings and lists");
                    Count(anchored.Nodes, alias.Start);
                    Next(parser);
                    height = anchored.Height;
                    return anchored.Node;
                case Scalar scalar:
                    Count(1, scalar.Start);
                    node = new ScalarNode(Location(scalar.Start), scalar.Value, IsPlain(scalar));
                    height = 0;
                    Next(parser);
                    break;
                case SequenceStart start:
                    {
                        RejectTag(start.Tag, start.Start, path);
                        Enter(depth, start.Start);
                        Next(parser);
                        var items = new List<ManifestNode>();
                        height = 1;
                        while (parser.Current is not SequenceEnd)
                        {
                            items.Add(ReadNode(parser, $"{path}[{items.Count}]", depth + 1, out int itemHeight));
                            height = Math.Max(height, itemHeight + 1);
                        }
                        Next(parser);
                        node = new SequenceNode(Location(start.Start), items);
                        break;
                    }
                case MappingStart start:
                    {
                        RejectTag(start.Tag, start.Start, path);
                        Enter(depth, start.Start);
                        Next(parser);
                        var entries = new List<KeyValuePair<ScalarNode, ManifestNode>>();
                        height = 1;
                        while (parser.Current is not MappingEnd)
                        {
                            if (parser.Current is not Scalar keyEvent)
                                throw ManifestErrors.At(Location(parser.Current!.Start),
                                    $"a key in `{(path.Length == 0 ? "the top level" : path)}` is not plain text; keys must be names like `batch_size`.");
                            Count(1, keyEvent.Start);
                            var key = new ScalarNode(Location(keyEvent.Start), keyEvent.Value, isPlain: true);
                            string keyPath = path.Length == 0 ? key.Value : $"{path}.{key.Value}";
                            var first = entries.FirstOrDefault(e => e.Key.Value == key.Value).Key;
                            if (first is not null)
                                throw ManifestErrors.At(key.Location, $"duplicate key `{keyPath}`.",
                                    $"It is already given at line {first.Location.Line}; keep one of the two.");
                            Next(parser);
                            entries.Add(new(key, ReadNode(parser, keyPath, depth + 1, out int valueHeight)));
                            height = Math.Max(height, valueHeight + 1);
                        }
                        Next(parser);
                        node = new MappingNode(Location(start.Start), entries);
                        break;
                    }
                default:
                    throw ManifestErrors.At(Location(current.Start), $"unexpected YAML element `{current.GetType().Name}`.");
            }
            if (current is NodeEvent { Anchor.IsEmpty: false } anchoredEvent)
                anchors[anchoredEvent.Anchor.Value] = new(node, height, nodes - nodesBefore);
            return node;
        }

        /// <summary>Counts the mapping or list starting at <paramref name="start"/>, one level below <paramref name="depth"/>.</summary>
        void Enter(int depth, Mark start)
        {
            if (depth + 1 > MaxDepth) throw TooDeep(start, "mappings and lists nested");
            Count(1, start);
        }

        void Count(int added, Mark at)
        {
            nodes += added;
            if (nodes > MaxNodes)
                throw ManifestErrors.At(Location(at), $"the YAML holds more than {MaxNodes} keys and values, each alias counted as a copy of what it names.",
                    "A manifest holds a few hundred; the limit keeps aliases of aliases from multiplying into endless work.",
                    "Write fewer values, or stop nesting aliases inside anchored values.");
        }

        InvalidInputException TooDeep(Mark at, string subject) =>
            ManifestErrors.At(Location(at), $"{subject} more than {MaxDepth} levels deep.",
                $"The limit is {MaxDepth} levels (a manifest's deepest value, the list sae.temporal.levels[0].scales, is at level 6); it keeps a runaway file from exhausting the reader.",
                "Check for unclosed `[` or `{`, or write the value with less nesting.");

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
    }
}
