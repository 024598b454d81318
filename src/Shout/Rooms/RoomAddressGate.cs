using System.Buffers;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// The room protocol of a peer whose address is not confirmed (a UDP source, which may be forged):
/// it becomes a <see cref="RoomMessageMember"/> only by confirming its address. Whatever it sends
/// first is answered with the line to send back, <c>/join ROOM TOKEN</c> (<see cref="UdpJoinLine"/>,
/// <see cref="UdpAddressToken"/>), within three times the bytes it sent (<see cref="AmplificationLimit"/>);
/// nothing it says reaches a room and nothing of a room reaches it until it echoes that line. So a
/// datagram with a forged source address makes the server send the forged address at most three
/// times its size. A member then stays until the session ends: the lease, <c>quit</c>, the server's
/// stop. Each message is a line (or several, split at <c>\n</c>); the sender's own answer is its
/// uppercase exactly as in datagram mode.
/// </summary>
internal sealed class RoomAddressGate(RoomHub hub, ShoutRoomOptions rooms, LineFramer framer, SessionSettings settings, TimeProvider clock,
    UdpAddressToken tokens, IPeer peer) : IProtocol
{
    private readonly System.Net.SocketAddress _address = peer.UnconfirmedAddress!;
    private RoomMessageMember? _member;

    public long MaxTurnInput => long.MaxValue;

    public CloseReason? Abandoned => _member?.Abandoned;

    /// <summary>One datagram (a whole message: the peer's transport has no fragments).</summary>
    public async ValueTask<FrameResult> ReceiveAsync(ReadOnlySequence<byte> input, bool end, bool draining)
    {
        var chunk = input.IsSingleSegment ? input.First : input.ToArray();
        var isJoin = UdpJoinLine.TryParse(chunk.Span, out var join);
        var confirms = isJoin && join.Token is { } token && RoomNames.IsValid(join.Room) && tokens.IsValid(_address, token);
        var joined = false;
        if (_member is null)
        {
            if (!confirms)
            {
                await ChallengeAsync(chunk.Length, isJoin && RoomNames.IsValid(join.Room) ? join.Room! : ShoutRoomOptions.DefaultRoom);
                return new(chunk.Length, FrameAction.Continue);
            }

            _member = new RoomMessageMember(hub, rooms, framer, settings.WriteTimeout, clock, peer, settings.IdleTimeout);
            _member.Enter(join.Room!, greet: false);
            joined = true;
        }
        else if (confirms)
        {
            // A member confirming again (its answer to a challenge crossed an earlier one): a /join.
            hub.Move(_member.Member, join.Room!);
        }

        var lines = chunk;
        if (confirms)
        {
            await _member.AnswerAsync(RoomLines.RoomSet(join.Room!));
            if (joined)
            {
                // After its OK room: the line it waited for comes first, then who it is.
                await _member.AnswerAsync(RoomLines.Greeting(_member.Member.Nick, _member.Member.Room));
            }

            lines = chunk[join.Length..];
        }

        if (lines.IsEmpty)
        {
            // A keepalive (or a bare /join): counted, nothing said.
            peer.Session.Answered(chunk.Length, 0);
            return new(chunk.Length, FrameAction.Continue);
        }

        // quit (or a line too long) ends the session: the source must confirm again to come back.
        return new(chunk.Length, await _member.SayAsync(lines, chunk.Length));
    }

    /// <summary>Nothing: a UDP source is not interrupted by a timeout (its lease ends it).</summary>
    public ValueTask TimedOutAsync(CloseReason expired) => ValueTask.CompletedTask;

    public ValueTask<CloseReason> EndAsync(CloseReason reason) => _member?.EndAsync(reason) ?? ValueTask.FromResult(reason);

    public ValueTask DisposeAsync() => _member?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// Answers a source that is not a member with the line that makes it one, or only <c>/join</c>
    /// when the line would pass three times its bytes (the transport withholds even that past the limit).
    /// </summary>
    private ValueTask<bool> ChallengeAsync(int received, string room)
    {
        var session = peer.Session;
        ReadOnlyMemory<byte> reply = UdpJoinLine.Challenge(room, tokens.Issue(_address));
        if (!AmplificationLimit.Allows(session.BytesIn + received, session.BytesOut, reply.Length))
        {
            reply = UdpJoinLine.Hint;
        }

        peer.Answer.Write(reply.Span);
        return peer.AnswerAsync(received, endOfMessage: true);
    }
}
