using System.Globalization;

namespace Shout.Configuration;

/// <summary>
/// Durations written as <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>2d</c> (a bare number means
/// seconds), from 0 to <see cref="Max"/>.
/// </summary>
internal static class DurationParser
{
    /// <summary>
    /// The longest duration accepted: what a .NET timer can hold (2^32 − 2 ms, about 49.7 days).
    /// A longer timeout would be accepted and then fail every connection when its timer is set.
    /// </summary>
    public static TimeSpan Max { get; } = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>The message for text that is not a duration.</summary>
    public static string Error(string text) => $"'{text}' is not a duration; write e.g. 500ms, 30s, 5m or 1h";

    /// <summary>The message for a duration longer than <see cref="Max"/>.</summary>
    public static string TooLong(string text) => $"'{text}' is too long; a duration is at most 49d (what a timer can hold)";

    /// <summary>Parses a duration; false when <paramref name="text"/> is not one.</summary>
    public static bool TryParse(string text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>Parses a duration; false with the message saying why when it is not one or is out of range.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = default;
        var s = text.Trim();
        (string Suffix, double Scale)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
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

        // Digits with an optional fraction and nothing else: double.TryParse alone also takes "NaN",
        // "Infinity", "∞" and "-0" whatever the NumberStyles, and TimeSpan throws on the first two.
        if (!IsPlainNumber(s) || !double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = Error(text);
            return false;
        }

        var milliseconds = number * scale;
        if (!double.IsFinite(milliseconds) || milliseconds > Max.TotalMilliseconds)
        {
            error = TooLong(text);
            return false;
        }

        value = TimeSpan.FromMilliseconds(milliseconds);
        error = "";
        return true;
    }

    /// <summary>ASCII digits with at most one decimal point and at least one digit: <c>5</c>, <c>1.5</c>, <c>.5</c>.</summary>
    private static bool IsPlainNumber(string s)
    {
        var digits = 0;
        var points = 0;
        foreach (var c in s)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c == '.' && ++points == 1)
            {
                continue;
            }
            else
            {
                return false;
            }
        }

        return digits > 0;
    }
}
