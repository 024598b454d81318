using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Streams;

/// <summary>
/// A stream connection (TCP, TLS, Unix) as a peer of the one protocol contract, and what its
/// timeouts and the drain do to it: answers go into the connection's output and are flushed within
/// the write timeout; a protocol's own lines (a room's) are flushed in batches without it. Idle and
/// line timeouts and the drain stop the pending read; the write timeout aborts the connection. One
/// object per connection: its place in the server's drain list and, in <c>StreamPeer.Loop.cs</c>,
/// the loop the runner drives.
/// </summary>
internal sealed partial class StreamPeer : DrainMember, ISessionTimeoutTarget, IPeer
{
    /// <summary>Most bytes of a protocol's lines written before one flush.</summary>
    private const int MaxLineBatch = 64 * 1024;

    private readonly ConnectionContext _connection;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ShoutConnectionHandler _handler;
    private readonly TransportKind _transport;
    private readonly SessionSettings _settings;
    private Session? _session;
    private SessionTimeouts? _timeouts;

    /// <summary>A peer only, not a loop (a protocol driven by hand, as its tests do), whose session is given by <see cref="Open"/>.</summary>
    public StreamPeer(ConnectionContext connection, PipeReader input)
        : this(connection, input, null!, default, new SessionSettings())
    {
    }

    /// <summary>A connection of <paramref name="transport"/> that <paramref name="handler"/> serves; its timeouts are armed now, before it opens.</summary>
    public StreamPeer(ConnectionContext connection, PipeReader input, ShoutConnectionHandler handler, TransportKind transport, SessionSettings settings)
    {
        _connection = connection;
        _input = input;
        _output = connection.Transport.Output;
        _handler = handler;
        _transport = transport;
        _settings = settings;
    }

    /// <summary>Arms the session's timeouts, which interrupt this peer (before the session is counted open).</summary>
    public void Arm(SessionTimeouts timeouts) => _timeouts = timeouts;

    public Session Session => _session!;

    public PeerSeam Seam => PeerSeam.Stream;

    public SocketAddress? UnconfirmedAddress => null;

    public IBufferWriter<byte> Answer => _output;

    /// <summary>The session and its timeouts of a peer driven by hand (a protocol's tests); the runner's loop arms and opens it itself (<see cref="Arm"/>, <c>Opened</c>).</summary>
    public void Open(Session session, SessionTimeouts timeouts)
    {
        _session = session;
        _timeouts = timeouts;
    }

    public ValueTask<bool> AnswerAsync(long received, bool endOfMessage)
    {
        var written = _output.UnflushedBytes;
        if (received == 0 && written == 0)
        {
            return ValueTask.FromResult(true);
        }

        _session!.Answered(received, written);
        var flush = _timeouts!.FlushAsync(_output);
        return flush.IsCompletedSuccessfully ? ValueTask.FromResult(Goes(flush.Result)) : WaitAsync(flush);
    }

    public async ValueTask<bool> SendLinesAsync(ReadOnlyMemory<byte> lines, bool more)
    {
        _output.Write(lines.Span);
        var batch = _output.UnflushedBytes;
        if (more && batch < MaxLineBatch)
        {
            return true;
        }

        _session!.Sent(batch);

        // No write timeout on this flush: while it waits, the protocol's own policy decides (a room's
        // queue fills, and the slow-member policy kicks or drops).
        if (!Goes(await _output.FlushAsync()))
        {
            return false;
        }

        // A peer that listens is not idle: lines reaching it keep it open.
        _timeouts!.Received();
        return true;
    }

    public void Kick() => _connection.Abort(new ConnectionAbortedException("The client did not read the lines it was owed in time."));

    public void Interrupt() => _input.CancelPendingRead();

    public override void Drain() => _input.CancelPendingRead();

    public void Abort() => _connection.Abort(new ConnectionAbortedException("The client did not read its replies within the write timeout."));

    private static bool Goes(FlushResult flush) => !flush.IsCompleted && !flush.IsCanceled;

    private static async ValueTask<bool> WaitAsync(ValueTask<FlushResult> flush) => Goes(await flush);
}
