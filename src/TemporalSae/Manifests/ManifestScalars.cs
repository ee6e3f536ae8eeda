using System.Globalization;
using System.Text.RegularExpressions;

namespace TemporalSae.Manifests;

// Typing of plain YAML scalars by the schema: numbers as researchers write them in configs (1e-4, 1.0e-4, 2_000_000,
// and 1e6 for a whole-number key when it is integral), booleans as true/false only. YAML 1.1's yes/no/on/off and
// hex/octal forms are refused because they surprise more people than they help.

static partial class ManifestScalars
{
    public static bool TryParseBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE": value = true; return true;
            case "false" or "False" or "FALSE": value = false; return true;
            default: value = false; return false;
        }
    }

    public static bool TryParseDouble(string text, out double value)
    {
        value = 0;
        if (!Decimal().IsMatch(text)) return false;
        return double.TryParse(text.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
               && double.IsFinite(value);
    }

    /// <summary>Parses a whole number; <paramref name="notIntegral"/> is set when the text is a number with a fraction.</summary>
    public static bool TryParseInteger(string text, out long value, out bool notIntegral)
    {
        value = 0;
        notIntegral = false;
        if (Integer().IsMatch(text))
            return long.TryParse(text.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        if (!TryParseDouble(text, out double d)) return false;
        if (d != Math.Floor(d)) { notIntegral = true; return false; }
        // 2^63 is the first double above long.MaxValue.
        if (d >= 9.2233720368547758e18 || d < -9.2233720368547758e18) return false;
        value = (long)d;
        return true;
    }

    public static bool IsSpecialFloat(string text) =>
        text.TrimStart('+', '-').ToLowerInvariant() is ".inf" or ".nan";

    /// <summary>Canonical text of a float: shortest round-trip form, always with a '.' or exponent (1.0, 0.001, 1e-7).</summary>
    public static string FormatDouble(double value)
    {
        string s = value.ToString("R", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E');
        if (e >= 0)
        {
            int exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return $"{s[..e]}e{exponent}";
        }
        return s.Contains('.') ? s : s + ".0";
    }

    /// <summary>A bound or default as a reader would write it: 256, 0.05, 1e10, 1e-6.</summary>
    public static string FormatNumber(double value)
    {
        double magnitude = Math.Abs(value);
        if (value == Math.Floor(value) && magnitude < 1e7) return ((long)value).ToString(CultureInfo.InvariantCulture);
        if (magnitude >= 1e7 || magnitude < 1e-3) return value.ToString("0.##############e0", CultureInfo.InvariantCulture);
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^[+-]?\d+(?:_\d+)*$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?$")]
    private static partial Regex Decimal();
}
