using Shout.Trace;

namespace Shout.IntegrationTests.Trace;

/// <summary>
/// A real capture on <c>lo</c> of one port, fed to a <see cref="WireTracker"/>: capturing when
/// <see cref="Start"/> returns, so the test's traffic comes after it. Records are collected as
/// they come; a test waits for the one it needs with a deadline.
/// </summary>
internal sealed class LoopbackTrace : IDisposable
{
    private readonly WireTracker _tracker;
    private readonly List<TraceRecord> _records = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly WireCapture _capture;

    private LoopbackTrace(int port)
    {
        _tracker = new WireTracker([port]);
        _capture = WireCapture.Start("lo", WireCapture.FilterFor([port], System.Net.IPAddress.Loopback), Add);
    }

    public static LoopbackTrace Start(int port) => new(port);

    public IReadOnlyList<TraceRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    /// <summary>Waits for the first TCP connection's summary and returns that connection's packet lines and summary.</summary>
    public async Task<(List<TracePacketLine> Lines, TraceSummary Summary)> WaitForConnectionAsync(TimeSpan? timeout = null)
    {
        var records = await WaitForAsync(r => r.OfType<TraceSummary>().Any(), timeout);
        var summary = records.OfType<TraceSummary>().First();
        return ([.. records.OfType<TracePacketLine>().Where(l => l.Connection == summary.Connection)], summary);
    }

    public async Task<IReadOnlyList<TraceRecord>> WaitForAsync(Func<IReadOnlyList<TraceRecord>, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var records = Records;
            if (condition(records))
            {
                return records;
            }

            try
            {
                await _changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the trace did not show what was expected in time; it has:\n{string.Join('\n', records)}");
            }
        }
    }

    public void Dispose()
    {
        _capture.Dispose();
        _changed.Dispose();
    }

    // On the capture's thread; the tracker is used from this thread only.
    private void Add(TracedPacket packet)
    {
        var records = _tracker.Add(packet);
        lock (_gate)
        {
            _records.AddRange(records);
        }

        _changed.Release();
    }
}
