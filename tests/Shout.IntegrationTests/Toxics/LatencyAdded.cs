namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// The check of what a latency toxic added (the median of round trips through it, less the median
/// without it, interleaved): never early, by more than 2 ms of measuring noise, and at most 30 % late.
/// Late is the timer's wake-up: the held bytes go when a timer continuation runs, which on a machine
/// whose cores are all busy (the whole suite in parallel) was once 5.4 ms late at the median of a
/// 50 ms toxic. A toxic not applied (about 0) or applied twice (about 100) still fails.
/// </summary>
internal static class LatencyAdded
{
    public static void Check(double added, int setMs, string without, int roundTrips = 100)
    {
        Assert.True(added >= setMs - 2 && added <= setMs * 1.3,
            $"added {added:F2} ms at the median of {roundTrips} round trips (set {setMs}; {without})");
    }
}
