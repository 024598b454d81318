using System.Buffers;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// The room protocol on the stream seam (TCP, TLS, Unix): the member's lines go to its
/// <see cref="RoomSession"/>, and its <see cref="MemberWriter"/> drains the member's queue to the
/// client, so what other members say arrives while this one types. Every reply goes through that
/// queue, in order with the room's lines: the line timeout's <c>ERR line timeout</c>, the idle
/// timeout's closing line, the drain's <c>QUIT</c>. A member kicked for not reading ends as
/// <see cref="CloseReason.SlowMember"/>.
/// </summary>
internal sealed class RoomStreamMember : IProtocol
{
    private readonly RoomHub _hub;
    private readonly RoomMember _member;
    private readonly RoomSession _room;
    private readonly IPeer _peer;
    private readonly SessionSettings _settings;
    private readonly TimeProvider _clock;
    private readonly Task _writer;
    private bool _left;

    public RoomStreamMember(RoomHub hub, LineFramer framer, ShoutRoomOptions options, IPeer peer, SessionSettings settings, TimeProvider clock)
    {
        _hub = hub;
        _peer = peer;
        _settings = settings;
        _clock = clock;
        _member = new RoomMember(hub.NextId(), peer.Session.Transport.Name(), options, settings.WriteTimeout, clock, hub.Metrics,
            _ => peer.Kick());
        _room = new RoomSession(hub, _member, framer);
        hub.Enter(_member);
        _writer = MemberWriter.RunAsync(_member, peer, WriteGather.Shared);
    }

    /// <summary>A whole line, whose length the line limit bounds.</summary>
    public long MaxTurnInput => long.MaxValue;

    public CloseReason? Abandoned => _member.Kicked ? CloseReason.SlowMember : null;

    public async ValueTask<FrameResult> ReceiveAsync(ReadOnlySequence<byte> input, bool end, bool draining)
    {
        var frame = await _room.ProcessAsync(input, end);
        if (draining && frame.Action == FrameAction.Continue)
        {
            await _member.AnswerAsync(RoomLines.QuitLine);
        }

        if (frame.Consumed > 0)
        {
            // Counted in when read; what goes out is counted by the writer as it sends.
            _peer.Session.Answered(frame.Consumed, 0);
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
            _peer.Kick();
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
}
