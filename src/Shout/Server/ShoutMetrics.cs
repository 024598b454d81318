using System.Diagnostics.Metrics;

namespace Shout.Server;

/// <summary>
/// Shout's meters (meter name <c>Shout</c>): connections accepted, active and closed by reason,
/// bytes and messages per transport, connection duration. Also keeps plain totals for the live view
/// and tests. Thread-safe.
/// </summary>
public sealed class ShoutMetrics
{
    /// <summary>The meter name that exporters subscribe to.</summary>
    public const string MeterName = "Shout";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _closed;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _messages;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _proxyRejected;
    private long _activeTotal;
    private long _acceptedTotal;
    private long _closedTotal;
    private long _proxyRejectedTotal;
    private readonly Counter<long> _datagramsTruncated;
    private readonly Counter<long> _datagramErrors;
    private long _datagramsTruncatedTotal;
    private long _datagramErrorsTotal;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public ShoutMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("shout.connections.accepted", "{connection}", "Connections accepted");
        _closed = meter.CreateCounter<long>("shout.connections.closed", "{connection}", "Connections closed, by reason");
        _active = meter.CreateUpDownCounter<long>("shout.connections.active", "{connection}", "Connections open now");
        _bytesReceived = meter.CreateCounter<long>("shout.bytes.received", "By", "Bytes received from clients");
        _bytesSent = meter.CreateCounter<long>("shout.bytes.sent", "By", "Bytes answered to clients");
        _messages = meter.CreateCounter<long>("shout.messages", "{message}", "Reads answered (stream), lines, datagrams or WebSocket messages");
        _duration = meter.CreateHistogram<double>("shout.connection.duration", "s", "Connection lifetime");
        _proxyRejected = meter.CreateCounter<long>("shout.proxy.rejected", "{connection}", "Connections closed before serving for a missing, bad, slow or untrusted PROXY header");
        _datagramsTruncated = meter.CreateCounter<long>("shout.udp.replies.truncated", "{datagram}",
            "UDP replies cut at a character boundary because they exceeded the datagram size limit");
        _datagramErrors = meter.CreateCounter<long>("shout.udp.errors", "{error}",
            "UDP socket errors survived by the receive loop (a failed send is a reply dropped), by operation");
    }

    /// <summary>Connections open now, over every transport.</summary>
    public long ActiveConnections => Interlocked.Read(ref _activeTotal);

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _acceptedTotal);

    /// <summary>Connections closed since start.</summary>
    public long ClosedConnections => Interlocked.Read(ref _closedTotal);

    /// <summary>Connections closed for their PROXY header since start.</summary>
    public long ProxyRejectedConnections => Interlocked.Read(ref _proxyRejectedTotal);

    /// <summary>Records a connection closed for its PROXY header (reason: untrusted, invalid, incomplete, timeout, reset).</summary>
    public void ProxyRejected(string reason)
    {
        Interlocked.Increment(ref _proxyRejectedTotal);
        _proxyRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Records an accepted connection.</summary>
    public void ConnectionOpened(string transport)
    {
        Interlocked.Increment(ref _activeTotal);
        Interlocked.Increment(ref _acceptedTotal);
        _accepted.Add(1, new KeyValuePair<string, object?>("transport", transport));
        _active.Add(1, new KeyValuePair<string, object?>("transport", transport));
    }

    /// <summary>Records a closed connection with its reason and lifetime.</summary>
    public void ConnectionClosed(string transport, CloseReason reason, TimeSpan duration)
    {
        Interlocked.Decrement(ref _activeTotal);
        Interlocked.Increment(ref _closedTotal);
        var t = new KeyValuePair<string, object?>("transport", transport);
        _active.Add(-1, t);
        _closed.Add(1, t, new KeyValuePair<string, object?>("reason", ReasonName(reason)));
        _duration.Record(duration.TotalSeconds, t);
    }

    /// <summary>Records one answered read, line, datagram or message.</summary>
    public void Answered(string transport, long received, long sent)
    {
        var t = new KeyValuePair<string, object?>("transport", transport);
        _messages.Add(1, t);
        _bytesReceived.Add(received, t);
        _bytesSent.Add(sent, t);
    }

    /// <summary>UDP replies truncated by the datagram size rule since start.</summary>
    public long DatagramRepliesTruncated => Interlocked.Read(ref _datagramsTruncatedTotal);

    /// <summary>UDP socket errors (receive, send, drain) since start.</summary>
    public long DatagramSocketErrors => Interlocked.Read(ref _datagramErrorsTotal);

    /// <summary>Records a UDP reply cut by the datagram size rule.</summary>
    public void DatagramReplyTruncated()
    {
        Interlocked.Increment(ref _datagramsTruncatedTotal);
        _datagramsTruncated.Add(1);
    }

    /// <summary>Records a UDP socket error that the receive loop survived.</summary>
    public void DatagramSocketError(string operation)
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
        _ => "unknown",
    };
}
