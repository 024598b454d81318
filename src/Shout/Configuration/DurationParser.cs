using System.Globalization;

namespace Shout.Configuration;

/// <summary>Durations written as <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c> (a bare number means seconds).</summary>
internal static class DurationParser
{
    /// <summary>The message for text that is not a duration.</summary>
    public static string Error(string text) => $"'{text}' is not a duration; write e.g. 500ms, 30s, 5m or 1h";

    /// <summary>Parses a duration; false when <paramref name="text"/> is not one.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var s = text.Trim();
        (string Suffix, double Scale)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        var scale = 1000.0;
        foreach (var (suffix, unitScale) in units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[..^suffix.Length];
                scale = unitScale;
                break;
            }
        }

        if (!double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(number * scale);
        return true;
    }
}
