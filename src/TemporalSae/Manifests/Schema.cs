namespace TemporalSae.Manifests;

/// <summary>One sentence for the reference documentation of a manifest key (README and `tsae validate --schema`).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class DocAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>Inclusive numeric bounds of a manifest key.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(double min, double max) : Attribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
}

/// <summary>The key must be given (in the manifest or a base it extends).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>The allowed values of a string key.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute(params string[] values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = values;
}
