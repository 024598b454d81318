using System.Globalization;

namespace Shout.Text;

/// <summary>
/// A duration as a person reads it: <c>54.7 ms</c>, <c>1.2 s</c>, <c>5m 0.0s</c>, <c>2h 3m</c>,
/// never <c>300021.8 ms</c>. Used by logs and the CLI's messages alike.
/// </summary>
internal static class DurationText
{
    /// <summary>Formats <paramref name="duration"/> in the largest unit that keeps one decimal meaningful.</summary>
    public static string Format(TimeSpan duration)
    {
        var ms = duration.TotalMilliseconds;
        if (ms < 0)
        {
            return "-" + Format(-duration);
        }

        if (ms < 1000)
        {
            return ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
        }

        if (ms < 60_000)
        {
            return (ms / 1000).ToString("0.0", CultureInfo.InvariantCulture) + " s";
        }

        if (duration < TimeSpan.FromHours(1))
        {
            var seconds = (ms - (Math.Floor(ms / 60_000) * 60_000)) / 1000;
            return string.Create(CultureInfo.InvariantCulture, $"{(int)(ms / 60_000)}m {seconds:0.0}s");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}h {duration.Minutes}m");
    }
}
