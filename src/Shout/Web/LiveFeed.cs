using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Shout.Diagnostics;
using Shout.Endpoints;
using Shout.Rooms;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// The live view's data: once per second it samples the server's own metrics into a five-minute
/// history, and pushes one frame (rates, connections per transport, TCP states, latest events) to
/// every open <c>/live</c> stream (server-sent events). The frame is built once per second,
/// whatever the number of viewers; the TCP table is read only while someone watches.
/// </summary>
internal sealed class LiveFeed(ShoutMetrics metrics, IConnectionEvents events, BoundAddresses addresses, ShoutWebOptions options,
    IHostApplicationLifetime lifetime, TimeProvider time, TraceFeed trace, OriginCheck origins, WebRefusals refusals,
    RoomBusStatus? bus = null) : BackgroundService
{
    public const int HistorySeconds = 300;
    private const int EventsShown = 30;

    private static readonly TcpState[] AlwaysShown =
        [TcpState.Listen, TcpState.Established, TcpState.CloseWait, TcpState.FinWait1, TcpState.FinWait2, TcpState.TimeWait, TcpState.LastAck];

    private readonly Lock _gate = new();
    private readonly Queue<LiveSample> _history = new();
    private readonly long _started = time.GetTimestamp();
    private TaskCompletionSource<byte[]> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<string, TransportStats> _previous = [];
    private long _previousAt;
    private LiveSample _latest = new(0, 0, 0, 0, 0, 0, 0, 0);
    private IReadOnlyList<LiveTransport> _transports = [];
    private int _viewers;

    /// <summary>Streams frames to one viewer until it leaves or the server stops.</summary>
    public async Task StreamAsync(HttpContext context)
    {
        if (origins.Refusal(context) is { } crossSite)
        {
            // Another site's page may not read the server's connections (and, with --trace, their payloads).
            refusals.Refused(context, "cross_origin", crossSite);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync($"ERR {crossSite}\n");
            return;
        }

        if (Interlocked.Increment(ref _viewers) > options.MaxLiveViewers)
        {
            Interlocked.Decrement(ref _viewers);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"busy: {options.MaxLiveViewers} live views are open\n");
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            var waiting = Volatile.Read(ref _next).Task;
            byte[] history;
            lock (_gate)
            {
                history = JsonSerializer.SerializeToUtf8Bytes([.. _history], LiveJsonContext.Default.IReadOnlyListLiveSample);
            }

            // EventSource reconnects by itself; 2 s keeps a restarted server's page from waiting long.
            await WriteEventAsync(context.Response, "retry: 2000\nevent: history\ndata: "u8.ToArray(), history, stop.Token);
            await WriteEventAsync(context.Response, "data: "u8.ToArray(), BuildFrame(), stop.Token);
            while (true)
            {
                var frame = await waiting.WaitAsync(stop.Token);
                waiting = Volatile.Read(ref _next).Task;
                await WriteEventAsync(context.Response, "data: "u8.ToArray(), frame, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The viewer left or the server is stopping.
        }
        finally
        {
            Interlocked.Decrement(ref _viewers);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        Tick();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        finally
        {
            Volatile.Read(ref _next).TrySetCanceled(CancellationToken.None);
        }
    }

    /// <summary>Takes one sample and, while someone watches, publishes a frame.</summary>
    internal void Tick()
    {
        var now = time.GetTimestamp();
        var stats = metrics.Snapshot().ToDictionary(s => s.Transport, StringComparer.Ordinal);
        var seconds = _previousAt == 0 ? 0 : time.GetElapsedTime(_previousAt, now).TotalSeconds;
        double Rate(Func<TransportStats, long> value) => seconds <= 0 ? 0
            : stats.Values.Sum(s => value(s) - (_previous.TryGetValue(s.Transport, out var p) ? value(p) : 0)) / seconds;

        var sample = new LiveSample(time.GetUtcNow().ToUnixTimeMilliseconds(), stats.Values.Sum(s => s.Active),
            Rate(s => s.Accepted), Rate(s => s.Closed), Rate(s => s.Rejected), Rate(s => s.Messages), Rate(s => s.BytesIn), Rate(s => s.BytesOut));
        var transports = stats.Values.Select(s => new LiveTransport(s.Transport, s.Active, s.Accepted, s.Closed, s.Rejected,
            seconds <= 0 ? 0 : (s.Messages - (_previous.TryGetValue(s.Transport, out var p) ? p.Messages : 0)) / seconds)).ToList();
        _previous = stats;
        _previousAt = now;
        lock (_gate)
        {
            _history.Enqueue(sample);
            while (_history.Count > HistorySeconds)
            {
                _history.Dequeue();
            }

            _latest = sample;
            _transports = transports;
        }

        if (Volatile.Read(ref _viewers) > 0)
        {
            var published = Interlocked.Exchange(ref _next, new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));
            published.TrySetResult(BuildFrame());
        }
    }

    private byte[] BuildFrame()
    {
        LiveSample sample;
        IReadOnlyList<LiveTransport> transports;
        lock (_gate)
        {
            sample = _latest;
            transports = _transports;
        }

        var latest = events.Latest();
        var shown = latest.Skip(Math.Max(0, latest.Count - EventsShown)).Select(e => new LiveEvent(e.Sequence, e.Time.ToUnixTimeMilliseconds(),
            e.Kind.ToString().ToLowerInvariant(), e.Transport, e.Remote, e.Reason is { } r ? ShoutMetrics.ReasonName(r) : null,
            e.ClosedBy, e.BytesIn, e.BytesOut, e.Duration.TotalMilliseconds)).ToList();
        var frame = new LiveFrame(sample, transports, ReadTcpStates(), shown, addresses.Endpoints,
            time.GetElapsedTime(_started).TotalSeconds, trace.Snapshot(), Bus());
        return JsonSerializer.SerializeToUtf8Bytes(frame, LiveJsonContext.Default.LiveFrame);
    }

    /// <summary>The bus's state in room mode; null in other modes (there is no bus to speak of).</summary>
    private LiveBus? Bus()
    {
        if (bus is null)
        {
            return null;
        }

        var (state, server, since) = bus.Current;
        return new LiveBus(state.ToString().ToLowerInvariant(), server, since.ToUnixTimeMilliseconds());
    }

    private List<LiveTcpState>? ReadTcpStates()
    {
        var ports = addresses.TcpPorts;
        IReadOnlyList<TcpSocketEntry> entries;
        try
        {
            entries = ports.Count == 0 ? [] : TcpStateTable.Read(ports);
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        // The web port's sockets (this page's /live and /ws among them) in their own column: the
        // Server column then counts what "open connections" counts on tcp and tls, and the two agree.
        var web = addresses.WebPort;
        return [.. Enum.GetValues<TcpState>()
            .Select(state => new LiveTcpState(TcpStateTable.StateName(state),
                entries.Count(e => e.State == state && e.IsServerSide(ports) && e.Local.Port != web),
                entries.Count(e => e.State == state && !e.IsServerSide(ports)),
                entries.Count(e => e.State == state && e.IsServerSide(ports) && e.Local.Port == web)))
            .Where(s => s.Server + s.Clients + s.Web > 0 || AlwaysShown.Any(a => TcpStateTable.StateName(a) == s.State))];
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] prefix, byte[] json, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(prefix, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
