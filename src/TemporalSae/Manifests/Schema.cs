// Attributes that describe manifest keys; the loader enforces them and the schema documentation is rendered from them.

namespace TemporalSae.Manifests;

/// <summary>One sentence for the reference documentation of a manifest key (README and `tsae validate --schema`).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class DocAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>Inclusive numeric bounds of a manifest key (of each item, for a list of numbers).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(double min, double max) : Attribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
}

/// <summary>The key must be given (in the manifest or a base it extends).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>The allowed values of a string key (of each item, for a list of strings).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute(params string[] values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = values;
}

/// <summary>
/// The key documents a run without changing what it computes (title, description): it appears in the canonical
/// output but not in the manifest hash, so rewording a description does not invalidate results.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DescriptiveAttribute : Attribute;

/// <summary>
/// The section configures <paramref name="stage"/>: it is part of the manifest hash only when the manifest runs that
/// stage, so a run of the first stages is not made stale by a change to the configuration of stages it never runs.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfiguresStageAttribute(string stage) : Attribute
{
    public string Stage { get; } = stage;
}

/// <summary>
/// A key added with a default that reproduces earlier behaviour is left out of the canonical form (YAML, JSON and
/// hash) while it is at that default, so adding it does not change existing manifest hashes or stage keys.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OmittedAtDefaultAttribute : Attribute;
