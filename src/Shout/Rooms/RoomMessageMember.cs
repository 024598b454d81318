using System.Buffers;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode on the message seam, its <see cref="IProtocol"/>: one member whose every message
/// is whole lines (<see cref="RoomSession.MessageAsync"/>, nothing appended or split again) and whose
/// every owed line goes out as one message, without its terminator, through the transport's
/// <see cref="IPeer"/> (<see cref="MemberWriter"/>). The same for a WebSocket session
/// and a UDP source (behind <see cref="RoomAddressGate"/>, which confirms its address first): the
/// transports only receive, time out and drain. Its goodbye lines are its own: <c>QUIT</c> at the
/// server's stop, the idle line at the idle timeout. Not thread-safe on the receiving side: one loop
/// hands it chunks; its writer runs beside that loop.
/// </summary>
internal sealed class RoomMessageMember : IProtocol, IDisposable
{
    // How long the writer may take to send what the member is still owed before the peer is ended.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly RoomHub _hub;
    private readonly IPeer _peer;
    private readonly RoomSession _protocol;
    private readonly LineFramer _framer;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _idleTimeout;
    private ArrayBufferWriter<byte>? _message;
    private Task _writer = Task.CompletedTask;
    private int _left;

    public RoomMessageMember(RoomHub hub, ShoutRoomOptions rooms, LineFramer framer, TimeSpan writeTimeout, TimeProvider clock, IPeer peer,
        TimeSpan idleTimeout = default)
    {
        _hub = hub;
        _peer = peer;
        _framer = framer;
        _clock = clock;
        _idleTimeout = idleTimeout;
        Member = new RoomMember(hub.NextId(), peer.Session.Transport.Name(), rooms, writeTimeout, clock, hub.Metrics, _ => peer.Kick());
        _protocol = new RoomSession(hub, Member, framer);
    }

    /// <summary>The member in its room (its queue, name and room).</summary>
    public RoomMember Member { get; }

    /// <summary>The member was kicked for not keeping up with the room.</summary>
    public bool Kicked => Member.Kicked;

    /// <summary>Sends what the member is owed until it leaves or its peer is gone.</summary>
    public Task Writer => _writer;

    public long MaxTurnInput => long.MaxValue;

    public CloseReason? Abandoned => Kicked ? CloseReason.SlowMember : null;

    /// <summary>Joins <paramref name="room"/> (the default room when null), greeted or not, and starts the writer.</summary>
    public void Enter(string? room, bool greet = true)
    {
        _hub.Enter(Member, room, greet);
        _writer = WriteAsync();
    }

    /// <summary>
    /// A chunk of the peer's message, kept until the message is whole (or longer than a line may be,
    /// which the framer then refuses as on TCP): then its lines are said, answered or obeyed.
    /// </summary>
    public async ValueTask<FrameResult> ReceiveAsync(ReadOnlySequence<byte> input, bool end, bool draining)
    {
        var message = _message ??= new ArrayBufferWriter<byte>(1024);
        foreach (var segment in input)
        {
            message.Write(segment.Span);
        }

        if (message.WrittenCount <= _framer.MaxLineLength + 1 && !end)
        {
            return new(input.Length, FrameAction.Continue);
        }

        return new(input.Length, await SayBufferedAsync(message.WrittenCount));
    }

    /// <summary>Nothing here: on the message seam the session's end says why (<see cref="EndAsync"/>).</summary>
    public ValueTask TimedOutAsync(CloseReason expired) => ValueTask.CompletedTask;

    /// <summary>
    /// A whole message of lines that <paramref name="received"/> bytes of the peer carried (a datagram
    /// whose <c>/join</c> the address gate took): copied, since the transport reuses its buffer, then said.
    /// </summary>
    public ValueTask<FrameAction> SayAsync(ReadOnlyMemory<byte> lines, int received)
    {
        (_message ??= new ArrayBufferWriter<byte>(1024)).Write(lines.Span);
        return SayBufferedAsync(received);
    }

    // Hands the buffered message to the room protocol, counted as one message of the peer.
    private async ValueTask<FrameAction> SayBufferedAsync(int received)
    {
        var message = _message!;
        var action = await MessageAsync(message.WrittenMemory);
        _peer.Session.Answered(received, 0);
        message.ResetWrittenCount();
        return action;
    }

    /// <summary>One whole message of the peer: its lines said, answered, or obeyed; how the member goes on.</summary>
    public async ValueTask<FrameAction> MessageAsync(ReadOnlyMemory<byte> message) => (await _protocol.MessageAsync(message)).Action;

    /// <summary>A line of the room protocol's own to the member (the server's stop, the idle timeout, a join's answer).</summary>
    public ValueTask<bool> AnswerAsync(ReadOnlyMemory<byte> line) => Member.AnswerAsync(line, cancellationToken: CancellationToken.None);

    /// <summary>The session ends: the goodbye line its reason calls for, then out of the room once what it is owed is sent.</summary>
    public async ValueTask<CloseReason> EndAsync(CloseReason reason)
    {
        if (reason == CloseReason.ServerDrain)
        {
            await AnswerAsync(RoomLines.QuitLine);
        }
        else if (reason == CloseReason.IdleTimeout)
        {
            await AnswerAsync(RoomLines.IdleClosed(_idleTimeout));
        }
        else if (reason == CloseReason.ClientClosed)
        {
            await _protocol.PeerDoneAsync();
        }

        await FinishAsync();
        return Kicked ? CloseReason.SlowMember : reason;
    }

    /// <summary>Out of the room (once): nothing more is queued, and the writer ends once the queue is sent.</summary>
    public void Leave()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            _hub.Leave(Member);
            Member.Complete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await FinishAsync();
        Member.Dispose();
    }

    public void Dispose()
    {
        Leave();
        Member.Dispose();
    }

    // Leaves, and waits for the writer to send what is owed; a peer that does not take it in time is ended.
    private async Task FinishAsync()
    {
        Leave();
        if (await Task.WhenAny(_writer, Task.Delay(CloseTimeout, _clock, CancellationToken.None)) != _writer)
        {
            _peer.Kick();
        }

        await _writer;
    }

    private Task WriteAsync() => MemberWriter.RunAsync(Member, _peer);
}
