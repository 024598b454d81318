namespace Shout.Sessions;

/// <summary>
/// One admitted session of any transport, from accept (or a UDP source's first datagram) to close:
/// its identity and the bytes each way. Written by the one loop that serves it; ended once through
/// <see cref="SessionLifecycle.Close"/>.
/// </summary>
internal sealed class Session
{
    private readonly ShoutMetrics _metrics;
    private int _closed;
    private long _bytesIn;
    private long _bytesOut;

    internal Session(ShoutMetrics metrics, string id, TransportKind transport, string remote, long started, SessionAdmission.Ticket? ticket)
    {
        _metrics = metrics;
        Ticket = ticket;
        ticket?.Hold();
        Id = id;
        Transport = transport;
        Remote = remote;
        Started = started;
    }

    /// <summary>The server's id of the session (Kestrel's connection id, or one made for a UDP source).</summary>
    public string Id { get; }

    /// <summary>The transport it arrived on.</summary>
    public TransportKind Transport { get; }

    /// <summary>The peer, as shown in logs and the live view.</summary>
    public string Remote { get; }

    /// <summary>When it was admitted (<see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long Started { get; }

    /// <summary>The admission slot it holds; freed when the session is recorded closed.</summary>
    internal SessionAdmission.Ticket? Ticket { get; }

    /// <summary>Bytes received and answered.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Bytes sent.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>Records one answered read, line, message or datagram.</summary>
    public void Answered(long received, long sent)
    {
        // Interlocked: a room member's reader and writer record from two loops.
        Interlocked.Add(ref _bytesIn, received);
        Interlocked.Add(ref _bytesOut, sent);
        _metrics.Answered(Transport, received, sent);
    }

    /// <summary>Takes back the bytes of a reply counted by <see cref="Answered"/> that the socket then refused to send.</summary>
    public void Unsent(long counted)
    {
        Interlocked.Add(ref _bytesOut, -counted);
        _metrics.Unsent(Transport, counted);
    }

    /// <summary>Records bytes sent that answer nothing the client sent (an error line, a notice).</summary>
    public void Sent(long sent)
    {
        Interlocked.Add(ref _bytesOut, sent);
        _metrics.Answered(Transport, 0, sent);
    }

    /// <summary>True the first time only: a session is closed once.</summary>
    internal bool TryMarkClosed() => Interlocked.Exchange(ref _closed, 1) == 0;
}
