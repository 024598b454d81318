namespace Shout.Configuration;

/// <summary>
/// Sums and multiples of durations for one timer, saturated at <see cref="DurationParser.Max"/>:
/// each part was checked when it was parsed, but two in-range timeouts can add up to one a timer
/// cannot hold (<c>CancelAfter</c> and <c>Task.Delay</c> throw past 2^32 − 2 ms).
/// </summary>
internal static class TimerSpan
{
    /// <summary>The sum of <paramref name="parts"/> (each 0 or more), at most <see cref="DurationParser.Max"/>.</summary>
    public static TimeSpan Sum(params ReadOnlySpan<TimeSpan> parts)
    {
        var max = DurationParser.Max.Ticks;
        long total = 0;
        foreach (var part in parts)
        {
            total = Math.Min(max, total + Math.Clamp(part.Ticks, 0, max));
        }

        return TimeSpan.FromTicks(total);
    }

    /// <summary><paramref name="duration"/> times <paramref name="count"/> (both 0 or more), at most <see cref="DurationParser.Max"/>.</summary>
    public static TimeSpan Times(TimeSpan duration, int count)
    {
        var ticks = Math.Clamp(duration.Ticks, 0, DurationParser.Max.Ticks);
        var n = Math.Max(count, 0);
        return ticks == 0 || n == 0 ? TimeSpan.Zero
            : ticks > DurationParser.Max.Ticks / n ? DurationParser.Max
            : TimeSpan.FromTicks(ticks * n);
    }
}
