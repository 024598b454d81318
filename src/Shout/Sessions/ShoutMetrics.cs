using System.Diagnostics.Metrics;

namespace Shout.Sessions;

/// <summary>
/// Shout's meters (meter name <c>Shout</c>): connections accepted, active, closed by reason and
/// rejected by reason, bytes and messages per transport, connection duration. Also keeps plain
/// totals per transport for the live view and tests. Thread-safe.
/// </summary>
/// <remarks>
/// The per-message instruments (bytes, messages) and the per-transport connection counts are
/// observable instruments read from the plain totals: the hot path is a few interlocked adds, and
/// an exporter (the <c>/metrics</c> page) costs nothing until it collects.
/// </remarks>
public sealed class ShoutMetrics
{
    /// <summary>The meter name that exporters subscribe to.</summary>
    public const string MeterName = "Shout";

    // One slot per transport, indexed by kind: the hot path finds its totals with no lookup.
    private readonly TransportTotals[] _transports = [.. TransportKinds.All.Select(_ => new TransportTotals())];
    private readonly Counter<long> _closed;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _datagramsTruncated;
    private readonly Counter<long> _datagramErrors;
    private long _activeTotal;
    private long _acceptedTotal;
    private long _closedTotal;
    private long _rejectedTotal;
    private long _writesWaiting;
    private long _timeoutsExpired;
    private readonly long[] _closedByReason = new long[Enum.GetValues<CloseReason>().Length];
    private readonly Counter<long> _proxyRejected;
    private long _proxyRejectedTotal;
    private long _datagramsTruncatedTotal;
    private long _datagramErrorsTotal;
    private readonly Counter<long> _datagramsRateLimited;
    private long _datagramsRateLimitedTotal;
    private readonly Counter<long> _datagramsWithheld;
    private long _datagramsWithheldTotal;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public ShoutMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("shout.connections.accepted", () => Observe(t => t.Accepted), "{connection}", "Connections accepted");
        meter.CreateObservableUpDownCounter("shout.connections.active", () => Observe(t => t.Active), "{connection}", "Connections open now");
        meter.CreateObservableCounter("shout.received", () => Observe(t => t.BytesIn), "By", "Bytes received from clients");
        meter.CreateObservableCounter("shout.sent", () => Observe(t => t.BytesOut), "By", "Bytes answered to clients");
        meter.CreateObservableCounter("shout.messages", () => Observe(t => t.Messages), "{message}",
            "Reads answered (stream), lines, datagrams or WebSocket messages");
        _closed = meter.CreateCounter<long>("shout.connections.closed", "{connection}", "Connections closed, by reason");
        _rejected = meter.CreateCounter<long>("shout.connections.rejected", "{connection}", "Connections refused before being served, by reason");
        _duration = meter.CreateHistogram<double>("shout.connection.duration", "s", "Connection lifetime");
        meter.CreateObservableGauge("shout.connections.write_waiting", () => Interlocked.Read(ref _writesWaiting), "{connection}",
            "Connections whose replies wait for a client that does not read");
        _proxyRejected = meter.CreateCounter<long>("shout.proxy.rejected", "{connection}", "Connections closed before serving for a missing, bad, slow or untrusted PROXY header");
        _datagramsTruncated = meter.CreateCounter<long>("shout.udp.replies.truncated", "{datagram}",
            "UDP replies cut at a character boundary because they exceeded the datagram size limit");
        _datagramsRateLimited = meter.CreateCounter<long>("shout.udp.rate_limited", "{datagram}",
            "UDP datagrams dropped unanswered because their source sent more than its rate");
        _datagramsWithheld = meter.CreateCounter<long>("shout.udp.withheld", "{datagram}",
            "UDP replies not sent because a source that has not confirmed its address would get more than 3x the bytes it sent");
        _datagramErrors = meter.CreateCounter<long>("shout.udp.errors", "{error}",
            "UDP socket errors survived by the receive loop (a failed send is a reply dropped), by operation");
    }

    /// <summary>Connections open now, over every transport.</summary>
    public long ActiveConnections => Interlocked.Read(ref _activeTotal);

    /// <summary>Stream connections (TCP, TLS, Unix) open now: the ones a listener handover waits for.</summary>
    internal long ActiveStreamConnections => TransportKinds.All.Where(k => k.IsStream()).Sum(k => Interlocked.Read(ref _transports[(int)k].Active));

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _acceptedTotal);

    /// <summary>Connections closed since start.</summary>
    public long ClosedConnections => Interlocked.Read(ref _closedTotal);

    /// <summary>Connections refused (over a limit, denied) since start.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejectedTotal);

    /// <summary>Connections that ended, or were refused, for <paramref name="reason"/> since start.</summary>
    public long ClosedFor(CloseReason reason) => Interlocked.Read(ref _closedByReason[(int)reason]);

    /// <summary>Connections whose replies wait, right now, for a client that does not read.</summary>
    public long WritesWaiting => Interlocked.Read(ref _writesWaiting);

    /// <summary>Timeouts that fired (the connection's close follows, recorded with the same reason).</summary>
    internal long TimeoutsExpired => Interlocked.Read(ref _timeoutsExpired);

    internal void TimeoutExpired() => Interlocked.Increment(ref _timeoutsExpired);

    /// <summary>Counts a connection whose reply started waiting for a slow reader (+1) or stopped waiting (−1).</summary>
    internal void WriteWaiting(int delta) => Interlocked.Add(ref _writesWaiting, delta);

    /// <summary>Connections closed for their PROXY header since start.</summary>
    public long ProxyRejectedConnections => Interlocked.Read(ref _proxyRejectedTotal);

    /// <summary>Records a connection closed for its PROXY header (reason: untrusted, invalid, incomplete, timeout, reset).</summary>
    internal void ProxyRejected(string reason)
    {
        Interlocked.Increment(ref _proxyRejectedTotal);
        _proxyRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Records an accepted connection.</summary>
    internal void ConnectionOpened(TransportKind transport)
    {
        Interlocked.Increment(ref _activeTotal);
        Interlocked.Increment(ref _acceptedTotal);
        var totals = Totals(transport);
        Interlocked.Increment(ref totals.Active);
        Interlocked.Increment(ref totals.Accepted);
    }

    /// <summary>Records a closed connection with its reason and lifetime.</summary>
    internal void ConnectionClosed(TransportKind transport, CloseReason reason, TimeSpan duration)
    {
        Interlocked.Decrement(ref _activeTotal);
        Interlocked.Increment(ref _closedTotal);
        Interlocked.Increment(ref _closedByReason[(int)reason]);
        var totals = Totals(transport);
        Interlocked.Decrement(ref totals.Active);
        Interlocked.Increment(ref totals.Closed);
        var t = new KeyValuePair<string, object?>("transport", transport.Name());
        _closed.Add(1, t, new KeyValuePair<string, object?>("reason", ReasonName(reason)));
        _duration.Record(duration.TotalSeconds, t);
    }

    /// <summary>Records a connection refused before it was served (it is not counted as accepted).</summary>
    internal void ConnectionRejected(TransportKind transport, CloseReason reason)
    {
        Interlocked.Increment(ref _rejectedTotal);
        Interlocked.Increment(ref _closedByReason[(int)reason]);
        Interlocked.Increment(ref Totals(transport).Rejected);
        _rejected.Add(1, new KeyValuePair<string, object?>("transport", transport.Name()), new KeyValuePair<string, object?>("reason", ReasonName(reason)));
    }

    /// <summary>Records one answered read, line, datagram or message.</summary>
    internal void Answered(TransportKind transport, long received, long sent)
    {
        var totals = Totals(transport);
        Interlocked.Increment(ref totals.Messages);
        Interlocked.Add(ref totals.BytesIn, received);
        Interlocked.Add(ref totals.BytesOut, sent);
    }

    /// <summary>Takes back the bytes of a reply counted by <see cref="Answered"/> that were not sent after all.</summary>
    internal void Unsent(TransportKind transport, long counted) => Interlocked.Add(ref Totals(transport).BytesOut, -counted);

    /// <summary>The totals of every transport seen so far, by name, read now (each value atomically, not all together).</summary>
    public IReadOnlyList<TransportStats> Snapshot() =>
        [.. TransportKinds.All.Select(k => _transports[(int)k].Read(k.Name())).Where(t => t.Accepted + t.Rejected + t.Messages > 0)
            .OrderBy(t => t.Transport, StringComparer.Ordinal)];

    /// <summary>UDP replies truncated by the datagram size rule since start.</summary>
    public long DatagramRepliesTruncated => Interlocked.Read(ref _datagramsTruncatedTotal);

    /// <summary>UDP socket errors (receive, send, drain) since start.</summary>
    public long DatagramSocketErrors => Interlocked.Read(ref _datagramErrorsTotal);

    /// <summary>Records a UDP reply cut by the datagram size rule.</summary>
    internal void DatagramReplyTruncated()
    {
        Interlocked.Increment(ref _datagramsTruncatedTotal);
        _datagramsTruncated.Add(1);
    }

    /// <summary>UDP datagrams dropped unanswered because their source was over its rate, since start.</summary>
    public long DatagramsRateLimited => Interlocked.Read(ref _datagramsRateLimitedTotal);

    /// <summary>Records a datagram dropped by the per-source rate limit.</summary>
    internal void DatagramRateLimited()
    {
        Interlocked.Increment(ref _datagramsRateLimitedTotal);
        _datagramsRateLimited.Add(1);
    }

    /// <summary>UDP replies withheld by the anti-amplification limit (3× the bytes of an unconfirmed source), since start.</summary>
    public long DatagramsWithheld => Interlocked.Read(ref _datagramsWithheldTotal);

    /// <summary>Records a reply withheld by the anti-amplification limit.</summary>
    internal void DatagramWithheld()
    {
        Interlocked.Increment(ref _datagramsWithheldTotal);
        _datagramsWithheld.Add(1);
    }

    /// <summary>Records a UDP socket error that the receive loop survived.</summary>
    internal void DatagramSocketError(string operation)
    {
        Interlocked.Increment(ref _datagramErrorsTotal);
        _datagramErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));
    }

    /// <summary>The snake_case name used for a reason in logs and metrics.</summary>
    public static string ReasonName(CloseReason reason) => reason switch
    {
        CloseReason.ClientClosed => "client_closed",
        CloseReason.Quit => "quit",
        CloseReason.ServerDrain => "server_drain",
        CloseReason.IdleTimeout => "idle_timeout",
        CloseReason.LineTimeout => "line_timeout",
        CloseReason.WriteTimeout => "write_timeout",
        CloseReason.Limit => "limit",
        CloseReason.Denied => "denied",
        CloseReason.Reset => "reset",
        CloseReason.ProtocolError => "protocol_error",
        CloseReason.KeepAliveTimeout => "keepalive_timeout",
        CloseReason.MessageTooBig => "message_too_big",
        CloseReason.SlowMember => "slow_member",
        CloseReason.LeaseExpired => "lease_expired",
        _ => "unknown",
    };

    private TransportTotals Totals(TransportKind transport) => _transports[(int)transport];

    private IEnumerable<Measurement<long>> Observe(Func<TransportTotals, long> read) =>
        TransportKinds.All.Where(k => Seen(_transports[(int)k]))
            .Select(k => new Measurement<long>(read(_transports[(int)k]), new KeyValuePair<string, object?>("transport", k.Name())));

    private static bool Seen(TransportTotals t) =>
        Interlocked.Read(ref t.Accepted) + Interlocked.Read(ref t.Rejected) + Interlocked.Read(ref t.Messages) > 0;

    private sealed class TransportTotals
    {
        // Fields, not properties: updated with Interlocked by reference.
        public long Active;
        public long Accepted;
        public long Closed;
        public long Rejected;
        public long Messages;
        public long BytesIn;
        public long BytesOut;

        public TransportStats Read(string name) => new(name, Interlocked.Read(ref Active), Interlocked.Read(ref Accepted),
            Interlocked.Read(ref Closed), Interlocked.Read(ref Rejected), Interlocked.Read(ref Messages),
            Interlocked.Read(ref BytesIn), Interlocked.Read(ref BytesOut));
    }
}

/// <summary>Totals of one transport since the server started.</summary>
/// <param name="Transport">tcp, tls, unix, udp, ws or wss (<see cref="TransportKinds.Name"/>).</param>
/// <param name="Active">Connections open now.</param>
/// <param name="Accepted">Connections accepted.</param>
/// <param name="Closed">Connections closed.</param>
/// <param name="Rejected">Connections refused before being served.</param>
/// <param name="Messages">Reads, lines, datagrams or WebSocket messages answered.</param>
/// <param name="BytesIn">Bytes received.</param>
/// <param name="BytesOut">Bytes answered.</param>
public sealed record TransportStats(string Transport, long Active, long Accepted, long Closed, long Rejected,
    long Messages, long BytesIn, long BytesOut);
