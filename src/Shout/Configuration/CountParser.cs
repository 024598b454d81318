using System.Globalization;

namespace Shout.Configuration;

/// <summary>
/// Whole numbers for counts and sizes, from flags, environment and configuration alike. A number
/// above the range is told as too large, not as "not a number" or "0 or more" (which it is).
/// </summary>
internal static class CountParser
{
    /// <summary>
    /// Parses a whole number from <paramref name="min"/> to <paramref name="max"/>; false with the message
    /// saying why. <paramref name="zeroMeans"/> is what 0 means when it is allowed (e.g. "no limit"), shown in the message.
    /// </summary>
    public static bool TryParse(string text, int min, int max, out int value, out string error, string? zeroMeans = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            error = "";
            return true;
        }

        value = min;
        // Digits only (a leading + allowed): a whole number, however many digits; it failed by size.
        var digits = text.StartsWith('+') ? text[1..] : text;
        var tooLarge = digits.Length > 0 && digits.All(char.IsAsciiDigit)
            && (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > max);
        error = tooLarge && max == int.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"'{text}' is too large; at most {max}")
            : $"'{text}' is not {Form(min, max, zeroMeans)}";
        return false;
    }

    /// <summary>The accepted range in words, e.g. <c>a whole number from 1 to 65535</c>.</summary>
    public static string Form(int min, int max, string? zeroMeans = null)
    {
        var low = min == 0 && zeroMeans is not null ? $"0 ({zeroMeans})" : min.ToString(CultureInfo.InvariantCulture);
        return max == int.MaxValue
            ? $"a whole number, {low} or more"
            : string.Create(CultureInfo.InvariantCulture, $"a whole number from {low} to {max}");
    }
}
