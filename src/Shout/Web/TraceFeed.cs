using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Trace;

namespace Shout.Web;

/// <summary>
/// The page's wire trace (<c>serve --trace</c>): captures the packets of the server's TCP, TLS and
/// UDP ports and keeps the latest connections' drawings for the live view. Off by default, and then
/// nothing runs: no capture, no hosted work, a constant "off" in the frame. Thread-safe: packets
/// arrive on the capture's thread, snapshots are taken on the live view's.
/// </summary>
internal sealed partial class TraceFeed(ShoutWebOptions options, BoundAddresses addresses, ILogger<TraceFeed> logger) : BackgroundService
{
    public const int ConnectionsKept = 6;
    public const int PacketsKept = 40;

    private static readonly LiveTrace Off = new("off", "Tracing is off: start the server with --trace to draw each connection's packets here.", [], []);

    private readonly Lock _gate = new();
    private readonly LinkedList<Drawing> _drawings = new();
    private WireTracker? _tracker;
    private LiveTrace _status = options.Trace ? new("starting", "Starting the capture…", [], []) : Off;

    /// <summary>The latest connections, newest first, and whether tracing runs.</summary>
    public LiveTrace Snapshot()
    {
        if (!options.Trace)
        {
            return Off;
        }

        lock (_gate)
        {
            return _status with { Connections = [.. _drawings.Select(d => d.ToLive())] };
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Trace)
        {
            return;
        }

        // Ports are known once the server has bound them (port 0 becomes a real one).
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (addresses.Endpoints.Count == 0 && await timer.WaitForNextTickAsync(stoppingToken))
        {
        }

        var endpoints = addresses.Endpoints.Select(e => ShoutEndpoint.TryParse(e, out var parsed, out _) ? parsed : null)
            .Where(e => e is { Transport: ShoutTransport.Tcp or ShoutTransport.Tls or ShoutTransport.Udp }).Select(e => e!).ToList();
        var ports = endpoints.Select(e => e.Port).Distinct().ToList();
        if (ports.Count == 0)
        {
            SetStatus("unavailable", "Nothing to trace: the server has no TCP, TLS or UDP endpoint.", ports);
            return;
        }

        var loopbackOnly = endpoints.All(e => IPAddress.TryParse(e.Host, out var ip) && IPAddress.IsLoopback(ip));

        // One specific address for every endpoint narrows the capture to it (other servers may share the port number elsewhere).
        var hosts = endpoints.Select(e => e.Host).Distinct().ToList();
        var address = hosts.Count == 1 && IPAddress.TryParse(hosts[0], out var only) ? only : null;
        lock (_gate)
        {
            _tracker = new WireTracker(ports);
        }

        try
        {
            using var capture = WireCapture.Start(loopbackOnly ? "lo" : "any", WireCapture.FilterFor(ports, address), Add,
                immediate: false); // the page redraws once a second: batches cost the server fewer wake-ups
            SetStatus("on", $"Tracing port {string.Join(", ", ports)} on {capture.Interface}.", ports);
            LogTracing(logger, capture.Filter, capture.Interface);
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            LogTraced(logger, capture.Packets);
        }
        catch (TraceUnavailableException e)
        {
            SetStatus(e.NotPermitted ? "denied" : "unavailable", "Tracing is not permitted: " + e.Message, ports);
            LogUnavailable(logger, e.Message);
        }
    }

    // On the capture's thread.
    private void Add(TracedPacket packet)
    {
        lock (_gate)
        {
            foreach (var record in _tracker!.Add(packet))
            {
                var drawing = _drawings.FirstOrDefault(d => d.Number == record.Connection);
                if (drawing is null)
                {
                    drawing = new Drawing(record.Connection, record is TraceDatagramLine ? "udp" : "tcp", record.Client, record.Server);
                    _drawings.AddFirst(drawing);
                    if (_drawings.Count > ConnectionsKept)
                    {
                        _drawings.RemoveLast();
                    }
                }

                drawing.Add(record);
            }
        }
    }

    private void SetStatus(string state, string message, IReadOnlyList<int> ports)
    {
        lock (_gate)
        {
            _status = new LiveTrace(state, message, ports, []);
        }
    }

    [LoggerMessage(EventId = LogEvents.TraceStarted, EventName = "TraceStarted", Level = LogLevel.Information, Message = "tracing packets ({Filter}) on {Interface} for the page")]
    private static partial void LogTracing(ILogger logger, string filter, string @interface);

    [LoggerMessage(EventId = LogEvents.TraceStopped, EventName = "TraceStopped", Level = LogLevel.Information, Message = "traced {Packets} packets")]
    private static partial void LogTraced(ILogger logger, long packets);

    [LoggerMessage(EventId = LogEvents.TraceUnavailable, EventName = "TraceUnavailable", Level = LogLevel.Warning, Message = "the page's trace is off: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    /// <summary>One connection's packets (the first <see cref="PacketsKept"/>) and its summary.</summary>
    private sealed class Drawing(int number, string kind, string client, string server)
    {
        private readonly List<LiveTracePacket> _packets = [];
        private int _more;
        private LiveTraceSummary? _summary;

        public int Number { get; } = number;

        public void Add(TraceRecord record)
        {
            switch (record)
            {
                case TraceSummary s:
                    _summary = new LiveTraceSummary(s.ClosedFirst, s.ResetBy, s.TimeWait, s.HandshakeRttMs, s.BytesClientToServer,
                        s.BytesServerToClient, s.Retransmissions, s.Packets);
                    break;
                case var _ when _packets.Count >= PacketsKept:
                    _more++;
                    break;
                case TracePacketLine p:
                    _packets.Add(new LiveTracePacket(p.From, p.Flags, p.Seq, p.Ack, p.Length, p.Preview, p.ClientState, p.ServerState, p.Retransmission, p.ElapsedMs,
                        p.GapMs, p.ZeroWindow));
                    break;
                case TraceDatagramLine d:
                    _packets.Add(new LiveTracePacket(d.From, "UDP", null, null, d.Length, d.Preview, null, null, false, 0));
                    break;
                default:
                    break;
            }
        }

        public LiveTraceConnection ToLive() => new(Number, kind, client, server, [.. _packets], _more, _summary);
    }
}
