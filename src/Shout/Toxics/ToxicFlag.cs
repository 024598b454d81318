using System.Globalization;

namespace Shout.Toxics;

/// <summary>
/// A toxic written on the command line: <c>TYPE[:STREAM][:KEY=VALUE,…]</c>, where the keys are the
/// toxic's attributes (toxiproxy's names), <c>toxicity</c> (0..1) and <c>name</c>; the stream is
/// downstream unless given. E.g. <c>latency:downstream:latency=100,jitter=10</c>,
/// <c>bandwidth:upstream:rate=64</c>, <c>reset_peer::timeout=500,toxicity=0.5</c>.
/// </summary>
internal static class ToxicFlag
{
    public const string Form = "TYPE[:upstream|downstream][:KEY=VALUE,...]";

    public static bool TryParse(string text, out ToxicSpec? toxic, out string error)
    {
        toxic = null;
        error = "";
        var parts = text.Split(':', 3);
        var type = parts[0].Trim();
        var streamText = parts.Length > 1 ? parts[1].Trim() : "";
        var pairs = parts.Length > 2 ? parts[2] : "";
        if (parts.Length == 2 && streamText.Contains('=', StringComparison.Ordinal))
        {
            (streamText, pairs) = ("", streamText);
        }

        var stream = ToxicStream.Downstream;
        if (streamText.Length > 0 && !ToxicSpec.TryParseStream(streamText, out stream))
        {
            error = $"'{text}': stream '{streamText}' is neither upstream nor downstream ({Form})";
            return false;
        }

        string? name = null;
        var toxicity = 1.0;
        var attributes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in pairs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                error = $"'{text}': '{pair}' is not KEY=VALUE ({Form})";
                return false;
            }

            var key = pair[..eq].Trim();
            var value = pair[(eq + 1)..].Trim();
            if (key == "name")
            {
                name = value;
            }
            else if (key == "toxicity")
            {
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out toxicity))
                {
                    error = $"'{text}': toxicity '{value}' is not a number from 0 to 1";
                    return false;
                }
            }
            else if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                attributes[key] = number;
            }
            else
            {
                error = $"'{text}': {key} '{value}' is not a whole number";
                return false;
            }
        }

        if (ToxicSpec.Check(type, attributes, toxicity) is { } problem)
        {
            error = $"'{text}': {problem}";
            return false;
        }

        toxic = new ToxicSpec(string.IsNullOrEmpty(name) ? ToxicSpec.DefaultName(type, stream) : name, type, stream, toxicity,
            ToxicSpec.WithDefaults(type, attributes));
        return true;
    }
}
