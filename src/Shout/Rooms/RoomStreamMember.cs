using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// The room protocol on the stream seam (TCP, TLS, Unix): the member's lines go to its
/// <see cref="RoomSession"/>, and a writer drains the member's queue to the client, so what other
/// members say arrives while this one types. Every reply goes through that queue, in order with
/// the room's lines: the line timeout's <c>ERR line timeout</c>, the idle timeout's closing line,
/// the drain's <c>QUIT</c>. A member kicked for not reading ends as <see cref="CloseReason.SlowMember"/>.
/// </summary>
internal sealed class RoomStreamMember : IStreamProtocol
{
    /// <summary>Most bytes of queued lines written before one flush.</summary>
    private const int MaxWriteBatch = 64 * 1024;

    private readonly RoomHub _hub;
    private readonly RoomMember _member;
    private readonly RoomSession _room;
    private readonly ConnectionContext _connection;
    private readonly Session _session;
    private readonly SessionSettings _settings;
    private readonly TimeProvider _clock;
    private readonly Task _writer;
    private bool _left;

    private RoomStreamMember(RoomHub hub, LineFramer framer, ShoutRoomOptions options, ConnectionContext connection,
        SessionTimeouts timeouts, Session session, SessionSettings settings, TimeProvider clock)
    {
        _hub = hub;
        _connection = connection;
        _session = session;
        _settings = settings;
        _clock = clock;
        _member = new RoomMember(hub.NextId(), session.Transport.Name(), options, settings.WriteTimeout, clock, hub.Metrics,
            _ => connection.Abort(new ConnectionAbortedException("The room member did not read its lines within the write timeout.")));
        _room = new RoomSession(hub, _member, framer);
        hub.Enter(_member);
        _writer = WriteAsync(_member, connection.Transport.Output, timeouts, session);
    }

    /// <summary>A whole line, whose length the line limit bounds.</summary>
    public long MaxTurnInput => long.MaxValue;

    public CloseReason? Abandoned => _member.Kicked ? CloseReason.SlowMember : null;

    public async ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool final, bool draining)
    {
        var frame = await _room.ProcessAsync(input, final);
        if (draining && frame.Action == FrameAction.Continue)
        {
            await _member.AnswerAsync(RoomLines.QuitLine);
        }

        if (frame.Consumed > 0)
        {
            // Counted in when read; what goes out is counted by the writer as it sends.
            _session.Answered(frame.Consumed, 0);
        }

        return frame;
    }

    public async ValueTask TimedOutAsync(CloseReason expired)
    {
        if (expired == CloseReason.LineTimeout)
        {
            await _member.AnswerAsync(LineFramer.TimedOutReply);
        }
        else if (expired == CloseReason.IdleTimeout)
        {
            // The room protocol says why it closes, as line mode's ERR line timeout does.
            await _member.AnswerAsync(RoomLines.IdleClosed(_settings.IdleTimeout));
        }
    }

    public async ValueTask<CloseReason> EndAsync(CloseReason reason)
    {
        Leave();

        // What is left goes out within the write timeout; a client that does not take it is cut off.
        if (SessionSettings.IsOn(_settings.WriteTimeout) && !_writer.IsCompleted
            && await Task.WhenAny(_writer, Task.Delay(_settings.WriteTimeout, _clock)) != _writer)
        {
            _connection.Abort(new ConnectionAbortedException("The room member did not read its last lines within the write timeout."));
            reason = CloseReason.WriteTimeout;
        }

        await _writer;
        return _member.Kicked ? CloseReason.SlowMember : reason;
    }

    public ValueTask DisposeAsync()
    {
        Leave();
        _member.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Out of the room first, so nothing more is queued; then what is queued can be sent.</summary>
    private void Leave()
    {
        if (!_left)
        {
            _left = true;
            _hub.Leave(_member);
            _member.Complete();
        }
    }

    /// <summary>Sends the member's queue until it is completed or the client is gone.</summary>
    private static async Task WriteAsync(RoomMember member, PipeWriter output, SessionTimeouts timeouts, Session session)
    {
        try
        {
            while (await member.WaitToReadAsync())
            {
                // Everything queued (up to a limit) goes out in one write and one flush.
                var batch = 0L;
                while (batch < MaxWriteBatch && member.TryTake(out var lines))
                {
                    output.Write(lines.Span);
                    batch += lines.Length;
                }

                session.Sent(batch);

                // No write timeout on this flush: while it waits, the member's queue fills, and the
                // slow-member policy (kick after the write timeout, or drop the oldest) decides.
                var flush = await output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }

                // A member that listens is not idle: lines reaching it keep it open.
                timeouts.Received();
            }
        }
        catch (Exception e) when (SessionEnd.Ends(e) || e is InvalidOperationException)
        {
            // The client is gone (reset, kicked, write timeout): the read side records why.
            member.Complete();
        }
    }

    /// <summary>Makes each stream connection a member of the rooms of <paramref name="hub"/>.</summary>
    internal sealed class Factory(RoomHub hub, ShoutRoomOptions options, int maxLineLength, TimeProvider clock) : IStreamProtocolFactory
    {
        private readonly LineFramer _framer = new(maxLineLength);

        public IStreamProtocol Start(ConnectionContext connection, SessionTimeouts timeouts, Session session, SessionSettings settings)
            => new RoomStreamMember(hub, _framer, options, connection, timeouts, session, settings, clock);
    }
}
