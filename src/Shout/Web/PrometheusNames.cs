using System.Diagnostics.Metrics;
using System.Text;

namespace Shout.Web;

/// <summary>
/// The Prometheus name and type of a .NET instrument, by the rules OpenTelemetry's Prometheus
/// exporter follows: dots become underscores, the unit becomes a suffix (<c>s</c> → <c>_seconds</c>,
/// <c>By</c> → <c>_bytes</c>; annotations such as <c>{connection}</c> add nothing), and a
/// monotonic counter ends in <c>_total</c>. The meter's name is not prefixed: instrument names
/// already start with <c>shout.</c>.
/// </summary>
internal static class PrometheusNames
{
    public static string Name(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = new StringBuilder();
        foreach (var c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        var unit = UnitSuffix(instrument.Unit);
        if (unit.Length > 0 && !name.ToString().EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name.Append('_').Append(unit);
        }

        if (IsCounter(instrument))
        {
            name.Append("_total");
        }

        return name.ToString();
    }

    /// <summary>counter, gauge or histogram.</summary>
    public static string Type(Instrument instrument) =>
        IsCounter(instrument) ? "counter" : IsHistogram(instrument) ? "histogram" : "gauge";

    public static bool IsCounter(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType();
        return type.IsGenericType && type.GetGenericTypeDefinition() is var t && (t == typeof(Counter<>) || t == typeof(ObservableCounter<>));
    }

    public static bool IsHistogram(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType();
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Histogram<>);
    }

    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => "",
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "%" => "percent",
        _ when unit.StartsWith('{') => "",
        _ => new string([.. unit.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant)]),
    };
}
