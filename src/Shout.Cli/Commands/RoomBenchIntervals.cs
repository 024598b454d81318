using System.Globalization;
using Shout.Load.Room;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout bench room --interval 1s</c>: a line per interval from the first line sent, like iperf3's
/// and pingpong's. Built from the run's progress reports (four a second), so each line gives its real
/// bounds; the counts are exact.
/// </summary>
internal sealed class RoomBenchIntervals(TimeSpan interval, Action<RoomBenchInterval>? print)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    // Reports arrive every ~0.25 s: an interval a little short of its length still ends at this one.
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(50);

    private readonly List<RoomBenchInterval> _all = [];
    private RoomBenchProgress _last = new(0, 0, 0);
    private RoomBenchProgress? _latest;

    public IReadOnlyList<RoomBenchInterval> All => _all;

    public void OnProgress(RoomBenchProgress p)
    {
        _latest = p;
        if (p.Seconds - _last.Seconds >= (interval - Slack).TotalSeconds)
        {
            Emit(p);
        }
    }

    /// <summary>Reports the last, partial interval (as iperf3 does) when the run ends.</summary>
    public void Finish()
    {
        if (_latest is { } p && p.Seconds - _last.Seconds > 0.05)
        {
            Emit(p);
        }
    }

    public static string Format(RoomBenchInterval i) => string.Create(Invariant,
        $"[{i.StartSeconds,6:0.0}-{i.EndSeconds,6:0.0} s]  {i.DeliveriesPerSecond,12:N0} deliveries/s  {i.LinesSentPerSecond,10:N0} lines/s sent");

    private void Emit(RoomBenchProgress p)
    {
        var seconds = p.Seconds - _last.Seconds;
        var report = new RoomBenchInterval(_last.Seconds, p.Seconds, p.Delivered - _last.Delivered, (p.Delivered - _last.Delivered) / seconds,
            p.Sent - _last.Sent, (p.Sent - _last.Sent) / seconds);
        _all.Add(report);
        print?.Invoke(report);
        _last = p;
    }
}

/// <summary>One <c>bench room --interval</c> report: what happened between two moments of the run.</summary>
internal sealed record RoomBenchInterval(double StartSeconds, double EndSeconds, long Deliveries, double DeliveriesPerSecond,
    long LinesSent, double LinesSentPerSecond);
