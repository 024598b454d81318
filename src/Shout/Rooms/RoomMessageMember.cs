using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode on the message seam: one member whose every message is whole lines
/// (<see cref="RoomSession.MessageAsync"/>, nothing appended or split again) and whose every owed
/// line goes out as one message, without its terminator, through the transport's
/// <see cref="IMessagePeer"/> (<see cref="MessageMemberWriter"/>). The same for a WebSocket session
/// and a UDP source: the transports' bindings (<see cref="RoomWebSocketSession"/>,
/// <see cref="UdpRoomMembers"/>) only receive, time out and confirm addresses. Not thread-safe on
/// the receiving side: one loop hands it messages; its writer runs beside that loop.
/// </summary>
internal sealed class RoomMessageMember : IDisposable
{
    private readonly RoomHub _hub;
    private readonly IMessagePeer _peer;
    private readonly RoomSession _protocol;
    private Task _writer = Task.CompletedTask;
    private int _left;

    public RoomMessageMember(RoomHub hub, ShoutRoomOptions rooms, LineFramer framer, TimeSpan writeTimeout, TimeProvider clock, IMessagePeer peer)
    {
        _hub = hub;
        _peer = peer;
        Member = new RoomMember(hub.NextId(), peer.Session.Transport.Name(), rooms, writeTimeout, clock, hub.Metrics, _ => peer.Kick());
        _protocol = new RoomSession(hub, Member, framer);
    }

    /// <summary>The member in its room (its queue, name and room).</summary>
    public RoomMember Member { get; }

    /// <summary>The member was kicked for not keeping up with the room.</summary>
    public bool Kicked => Member.Kicked;

    /// <summary>Sends what the member is owed until it leaves or its peer is gone.</summary>
    public Task Writer => _writer;

    /// <summary>Joins <paramref name="room"/> (the default room when null), greeted or not, and starts the writer.</summary>
    public void Enter(string? room, bool greet = true)
    {
        _hub.Enter(Member, room, greet);
        _writer = WriteAsync();
    }

    /// <summary>One message of the peer: its lines said, answered, or obeyed; how the member goes on.</summary>
    public async ValueTask<FrameAction> MessageAsync(ReadOnlyMemory<byte> message) => (await _protocol.MessageAsync(message)).Action;

    /// <summary>A line of the room protocol's own to the member (the server's stop, the idle timeout, a join's answer).</summary>
    public ValueTask<bool> AnswerAsync(ReadOnlyMemory<byte> line) => Member.AnswerAsync(line, cancellationToken: CancellationToken.None);

    /// <summary>Out of the room (once): nothing more is queued, and the writer ends once the queue is sent.</summary>
    public void Leave()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            _hub.Leave(Member);
            Member.Complete();
        }
    }

    public void Dispose()
    {
        Leave();
        Member.Dispose();
    }

    private async Task WriteAsync()
    {
        try
        {
            await MessageMemberWriter.RunAsync(Member, _peer, static (peer, text) => peer.SendAsync(text));
        }
        catch (Exception e) when (SessionEnd.Ends(e) || e is ObjectDisposedException)
        {
            // The peer is gone (reset, aborted, the socket closing): what it was owed is lost with it.
            Member.Complete();
        }
    }
}
