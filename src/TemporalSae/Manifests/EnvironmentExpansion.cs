using System.Text.RegularExpressions;
using TemporalSae.Infrastructure;

namespace TemporalSae.Manifests;

// `${VAR}` in path keys (subject_model.path, data.folder). The resolved config keeps the text unexpanded, so a
// manifest for a large model validates and hashes the same on every machine; the variable is looked up only when a
// stage needs the path, and only then does a missing variable fail.

public static partial class EnvironmentExpansion
{
    /// <summary>Names of the variables referenced by <paramref name="value"/>, in order of appearance.</summary>
    public static IReadOnlyList<string> Variables(string value) =>
        Reference().Matches(value).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>The referenced variables that <paramref name="lookup"/> (default: the process environment) does not define.</summary>
    public static IReadOnlyList<string> Missing(string value, Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        return Variables(value).Where(name => string.IsNullOrEmpty(lookup(name))).ToList();
    }

    /// <summary>
    /// Expands every `${VAR}` in the value of <paramref name="keyPath"/>; throws InvalidInputException naming the
    /// missing variables and the key when any is undefined or empty.
    /// </summary>
    public static string Expand(string value, string keyPath, Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        CheckSyntax(value, keyPath);
        var missing = Missing(value, lookup);
        if (missing.Count > 0)
            throw new InvalidInputException(
                $"`{keyPath}` is `{value}`, which needs the environment variable{(missing.Count > 1 ? "s" : "")} " +
                $"{string.Join(", ", missing)}, not set here.\n" +
                $"  Set {missing[0]} to the folder (export {missing[0]}=/path/to/folder), or override the key: --set {keyPath}=/path/to/folder");
        return Reference().Replace(value, m => lookup(m.Groups[1].Value)!);
    }

    /// <summary>A `$` followed by `{` must form `${NAME}` with NAME made of letters, digits and '_'.</summary>
    public static string? SyntaxProblem(string value)
    {
        int at = value.IndexOf("${", StringComparison.Ordinal);
        while (at >= 0)
        {
            var match = Reference().Match(value, at);
            if (!match.Success || match.Index != at)
                return $"`{value}` has a `${{` at character {at + 1} that does not form `${{NAME}}` (NAME: letters, digits and _).";
            at = value.IndexOf("${", at + match.Length, StringComparison.Ordinal);
        }
        return null;
    }

    static void CheckSyntax(string value, string keyPath)
    {
        if (SyntaxProblem(value) is { } problem) throw new InvalidInputException($"`{keyPath}`: {problem}");
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Reference();
}
