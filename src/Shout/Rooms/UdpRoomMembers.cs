using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>Makes the room members of one UDP socket (registered in room mode only).</summary>
internal sealed class UdpRooms(RoomHub hub, ShoutRoomOptions rooms, int maxLineLength, ShoutMetrics metrics, TimeProvider clock)
    : IDatagramProtocolFactory
{
    private readonly UdpAddressToken _tokens = new(clock);

    /// <summary>A member says it is still there within the lease.</summary>
    public bool Leases => true;

    public IDatagramProtocol For(Socket socket, string name, SessionSettings settings) =>
        new UdpRoomMembers(hub, rooms, new LineFramer(maxLineLength), settings, clock, socket, _tokens, metrics);
}

/// <summary>
/// Room mode's binding to UDP: it confirms each source's address, then hands the source's datagrams
/// to the message seam's one room member, <see cref="RoomMessageMember"/>, as it does a WebSocket's
/// messages. A source address becomes a member only by confirming it: whatever it sends
/// first is answered with the line to send back, <c>/join ROOM TOKEN</c> (<see cref="UdpJoinLine"/>,
/// <see cref="UdpAddressToken"/>), within three times the bytes it sent (<see cref="AmplificationLimit"/>);
/// nothing it says reaches a room and nothing of a room reaches it until it echoes that line. So a
/// datagram with a forged source address makes the server send the forged address at most three
/// times its size. A member then stays until the source's session ends: the lease (nothing from it
/// for <c>--udp-lease</c>), <c>quit</c>, the server's stop. Each datagram is a line (or several, split
/// at <c>\n</c>); the sender's own answer is its uppercase exactly as in datagram mode, and every
/// line queued for a member is one datagram to its address, without the trailing newline. Sending a
/// datagram never waits for the peer, so a UDP member is never a slow member; what the network loses
/// is lost.
/// </summary>
internal sealed class UdpRoomMembers(RoomHub hub, ShoutRoomOptions rooms, LineFramer framer, SessionSettings settings, TimeProvider clock,
    Socket socket, UdpAddressToken tokens, ShoutMetrics metrics) : IDatagramProtocol
{
    private readonly ConcurrentDictionary<Session, RoomMessageMember> _members = new();

    public async ValueTask OnDatagramAsync(Session session, SocketAddress source, ReadOnlyMemory<byte> datagram)
    {
        var isJoin = UdpJoinLine.TryParse(datagram.Span, out var join);
        var confirms = isJoin && join.Token is { } token && RoomNames.IsValid(join.Room) && tokens.IsValid(source, token);
        var joined = false;
        if (!_members.TryGetValue(session, out var member))
        {
            if (!confirms)
            {
                await ChallengeAsync(session, source, datagram.Length, isJoin && RoomNames.IsValid(join.Room) ? join.Room! : ShoutRoomOptions.DefaultRoom);
                return;
            }

            member = Join(session, source, join.Room!);
            joined = true;
        }
        else if (confirms)
        {
            // A member confirming again (its answer to a challenge crossed an earlier one): a /join.
            hub.Move(member.Member, join.Room!);
        }

        var lines = datagram;
        if (confirms)
        {
            await member.AnswerAsync(RoomLines.RoomSet(join.Room!));
            if (joined)
            {
                // After its OK room: the line it waited for comes first, then who it is.
                await member.AnswerAsync(RoomLines.Greeting(member.Member.Nick, member.Member.Room));
            }

            lines = datagram[join.Length..];
        }

        // Copied: the receive buffer is reused for the next datagram.
        var action = lines.IsEmpty ? FrameAction.Continue : await member.MessageAsync(lines.ToArray());
        session.Answered(datagram.Length, 0);
        if (action != FrameAction.Continue)
        {
            // quit (or a line too long): out of the room; the source must confirm again to come back.
            Ended(session);
        }
    }

    /// <summary>The core ended the source's session: it leaves the room.</summary>
    public void Ended(Session session)
    {
        if (_members.TryRemove(session, out var member))
        {
            member.Leave();
        }
    }

    /// <summary>
    /// Answers a source that is not a member with the line that makes it one, or only <c>/join</c>
    /// when the line would pass three times its bytes, or nothing when even that would.
    /// </summary>
    private async ValueTask ChallengeAsync(Session session, SocketAddress source, int received, string room)
    {
        var receivedInAll = session.BytesIn + received;
        ReadOnlyMemory<byte> reply = UdpJoinLine.Challenge(room, tokens.Issue(source));
        if (!AmplificationLimit.Allows(receivedInAll, session.BytesOut, reply.Length))
        {
            reply = UdpJoinLine.Hint;
        }

        if (!AmplificationLimit.Allows(receivedInAll, session.BytesOut, reply.Length))
        {
            metrics.DatagramWithheld();
            session.Answered(received, 0);
            return;
        }

        // Counted before the reply goes (taken back if it cannot): a client that has its answer finds it counted.
        session.Answered(received, reply.Length);
        try
        {
            await socket.SendToAsync(reply, SocketFlags.None, source, CancellationToken.None);
        }
        catch (SocketException)
        {
            metrics.DatagramSocketError("send");
            session.Unsent(reply.Length);
        }
    }

    private RoomMessageMember Join(Session session, SocketAddress source, string roomName)
    {
        var address = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span.CopyTo(address.Buffer.Span);
        var member = new RoomMessageMember(hub, rooms, framer, settings.WriteTimeout, clock, new Peer(this, socket, address, session));
        _members[session] = member;
        member.Enter(roomName, greet: false);
        _ = DisposeWhenWrittenAsync(member);
        return member;
    }

    /// <summary>A UDP member lives until its writer has sent what it was owed (or its socket closed).</summary>
    private static async Task DisposeWhenWrittenAsync(RoomMessageMember member)
    {
        await member.Writer;
        member.Dispose();
    }

    /// <summary>A source as the room member's peer: each line one datagram to its address; a kick forgets it.</summary>
    private sealed class Peer(UdpRoomMembers members, Socket socket, SocketAddress address, Session session) : IMessagePeer
    {
        public Session Session => session;

        public async ValueTask SendAsync(ReadOnlyMemory<byte> message)
        {
            await socket.SendToAsync(message, SocketFlags.None, address, CancellationToken.None);
            session.Sent(message.Length);
        }

        public void Kick() => members.Ended(session);
    }

}
