
namespace Shout.Sessions;

/// <summary>What happened to a connection.</summary>
internal enum ConnectionEventKind
{
    /// <summary>Accepted and being served.</summary>
    Opened,

    /// <summary>Ended; see <see cref="ConnectionEvent.Reason"/> and <see cref="ConnectionEvent.ClosedBy"/>.</summary>
    Closed,

    /// <summary>Refused before being served (over a limit, denied).</summary>
    Rejected,
}

/// <summary>One entry of the recent connection events.</summary>
/// <param name="Sequence">Increases by one per event, so a reader can tell what is new.</param>
/// <param name="Time">When it happened.</param>
/// <param name="Kind">Opened, closed or rejected.</param>
/// <param name="ConnectionId">The server's id of the connection.</param>
/// <param name="Transport">tcp, tls, unix, udp or ws.</param>
/// <param name="Remote">The peer's address.</param>
/// <param name="Reason">Why it closed or was rejected; null when opened.</param>
/// <param name="ClosedBy"><c>client</c> or <c>server</c>: who closed first; null when opened.</param>
/// <param name="BytesIn">Bytes received (closed only).</param>
/// <param name="BytesOut">Bytes answered (closed only).</param>
/// <param name="Duration">Lifetime (closed only).</param>
internal sealed record ConnectionEvent(long Sequence, DateTimeOffset Time, ConnectionEventKind Kind, string ConnectionId,
    string Transport, string Remote, CloseReason? Reason, string? ClosedBy, long BytesIn, long BytesOut, TimeSpan Duration);

/// <summary>The latest connection events of a server, for the live view. Thread-safe.</summary>
internal interface IConnectionEvents
{
    /// <summary>Records an accepted connection.</summary>
    void Opened(string connectionId, string transport, string remote);

    /// <summary>Records a closed connection.</summary>
    void Closed(string connectionId, string transport, string remote, CloseReason reason, long bytesIn, long bytesOut, TimeSpan duration);

    /// <summary>Records a connection refused before it was served.</summary>
    void Rejected(string connectionId, string transport, string remote, CloseReason reason);

    /// <summary>The latest events, oldest first, at most the log's capacity.</summary>
    IReadOnlyList<ConnectionEvent> Latest();

    /// <summary>Who closes first for a reason: the client (FIN or reset) or the server.</summary>
    static string ClosedByFor(CloseReason reason) => reason is CloseReason.ClientClosed or CloseReason.Reset ? "client" : "server";
}

/// <summary>
/// A fixed-size ring of the latest connection events: memory stays bounded however many clients
/// come and go. A lock per event is cheap next to accepting or closing a connection.
/// </summary>
internal sealed class ConnectionEventLog(TimeProvider time, int capacity = ConnectionEventLog.DefaultCapacity) : IConnectionEvents
{
    public const int DefaultCapacity = 64;

    private readonly ConnectionEvent?[] _ring = new ConnectionEvent?[capacity];
    private readonly Lock _gate = new();
    private long _next;

    public void Opened(string connectionId, string transport, string remote) =>
        Add(ConnectionEventKind.Opened, connectionId, transport, remote, null, 0, 0, TimeSpan.Zero);

    public void Closed(string connectionId, string transport, string remote, CloseReason reason, long bytesIn, long bytesOut, TimeSpan duration) =>
        Add(ConnectionEventKind.Closed, connectionId, transport, remote, reason, bytesIn, bytesOut, duration);

    public void Rejected(string connectionId, string transport, string remote, CloseReason reason) =>
        Add(ConnectionEventKind.Rejected, connectionId, transport, remote, reason, 0, 0, TimeSpan.Zero);

    public IReadOnlyList<ConnectionEvent> Latest()
    {
        lock (_gate)
        {
            var count = (int)Math.Min(_next, _ring.Length);
            var result = new ConnectionEvent[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = _ring[(_next - count + i) % _ring.Length]!;
            }

            return result;
        }
    }

    private void Add(ConnectionEventKind kind, string connectionId, string transport, string remote, CloseReason? reason,
        long bytesIn, long bytesOut, TimeSpan duration)
    {
        var closedBy = kind == ConnectionEventKind.Closed && reason is { } r ? IConnectionEvents.ClosedByFor(r)
            : kind == ConnectionEventKind.Rejected ? "server" : null;
        var now = time.GetUtcNow();
        lock (_gate)
        {
            _ring[_next % _ring.Length] = new ConnectionEvent(_next, now, kind, connectionId, transport, remote, reason, closedBy,
                bytesIn, bytesOut, duration);
            _next++;
        }
    }
}
