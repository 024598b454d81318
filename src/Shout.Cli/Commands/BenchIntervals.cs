using System.Diagnostics;
using System.Globalization;
using Shout.Load;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout bench --interval 1s</c>: a report per interval of the measured phase, like iperf3's.
/// Built from the runner's progress snapshots (about two a second), so an interval ends at the first
/// snapshot at or after its length and each line gives its real bounds; the messages counted are exact.
/// </summary>
internal sealed class BenchIntervals(TimeSpan interval, Action<BenchInterval>? print)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    // Snapshots arrive every ~0.5 s: an interval a little short of its length still ends at this one.
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(100);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<BenchInterval> _all = [];
    private double _measureStart = -1;
    private double _lastTick;
    private double _lastReport;
    private long _lastMessages;
    private long _lastErrors;
    private double _bytes;
    private BenchProgress? _latest;

    public IReadOnlyList<BenchInterval> All => _all;

    public void OnProgress(BenchProgress p)
    {
        var now = _clock.Elapsed.TotalSeconds;
        if (p.Phase is "warmup" or "stop")
        {
            (_lastTick, _lastReport, _lastMessages, _lastErrors, _bytes) = (now, now, p.Messages, p.Errors, 0);
            return;
        }

        if (_measureStart < 0)
        {
            // The measured phase began at the previous snapshot (the end of warmup), or now.
            _measureStart = _lastTick > 0 ? _lastTick : now;
            _lastReport = _measureStart;
        }

        _bytes += p.MegabytesPerSecond * 1e6 * (now - _lastTick);
        _lastTick = now;
        _latest = p;
        if (now - _lastReport >= (interval - Slack).TotalSeconds)
        {
            Emit(now, p);
        }
    }

    /// <summary>Reports the last, partial interval (as iperf3 does) when the run ends.</summary>
    public void Finish()
    {
        if (_latest is { } p && _lastTick - _lastReport > 0.05)
        {
            Emit(_lastTick, p);
        }
    }

    public static string Format(BenchInterval i) => string.Create(Invariant,
        $"[{i.StartSeconds,6:0.0}-{i.EndSeconds,6:0.0} s]  {i.MessagesPerSecond,12:N0} msgs/s  {i.MegabytesPerSecond,9:N2} MB/s  {i.OpenConnections,6:N0} open")
        + (i.Errors > 0 ? string.Create(Invariant, $"  {i.Errors:N0} errors") : "");

    private void Emit(double now, BenchProgress p)
    {
        var seconds = now - _lastReport;
        var report = new BenchInterval(_lastReport - _measureStart, now - _measureStart, p.Messages - _lastMessages,
            (p.Messages - _lastMessages) / seconds, _bytes / seconds / 1e6, p.OpenConnections, p.Errors - _lastErrors);
        _all.Add(report);
        print?.Invoke(report);
        (_lastReport, _lastMessages, _lastErrors, _bytes) = (now, p.Messages, p.Errors, 0);
    }
}
