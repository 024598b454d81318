using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Shout.Framing;
using Shout.Rooms;
using Shout.Sessions;

namespace Shout.Server.Udp;

/// <summary>Makes the room members of one UDP socket (registered in room mode only).</summary>
internal sealed class UdpRooms(RoomHub hub, ShoutRoomOptions rooms, ShoutServerOptions options, TimeProvider clock)
{
    public UdpRoomMembers For(Socket socket, SessionSettings settings) =>
        new(hub, rooms, new LineFramer(options.MaxLineLength), settings, clock, socket);
}

/// <summary>
/// Room mode on UDP: a source address is a member from its first datagram until the session core
/// ends its session (the idle timeout, the server's stop). Each datagram is a line (or several, split
/// at <c>\n</c>); the sender's own answer is its uppercase exactly as in datagram mode, and every
/// line queued for a member is one datagram to its address, without the trailing newline. Sending a
/// datagram never waits for the peer, so a UDP member is never a slow member; what the network loses
/// is lost.
/// </summary>
internal sealed class UdpRoomMembers(RoomHub hub, ShoutRoomOptions rooms, LineFramer framer, SessionSettings settings, TimeProvider clock, Socket socket)
{
    private readonly ConcurrentDictionary<Session, Member> _members = new();

    public async ValueTask OnDatagramAsync(Session session, SocketAddress source, ReadOnlyMemory<byte> datagram)
    {
        if (!_members.TryGetValue(session, out var member))
        {
            member = Join(session, source);
        }

        // Copied: the receive buffer is reused for the next datagram.
        var frame = await member.Protocol.ProcessAsync(new ReadOnlySequence<byte>(datagram.ToArray()), isCompleted: true);
        session.Answered(datagram.Length, 0);
        if (frame.Action != FrameAction.Continue)
        {
            // quit (or a line too long): out of the room; a later datagram from the source joins again.
            Ended(session);
        }
    }

    /// <summary>The core ended the source's session: it leaves the room.</summary>
    public void Ended(Session session)
    {
        if (_members.TryRemove(session, out var member))
        {
            hub.Leave(member.Room);
            member.Room.Complete();
        }
    }

    private Member Join(Session session, SocketAddress source)
    {
        var address = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span.CopyTo(address.Buffer.Span);
        var room = new RoomMember(hub.NextId(), TransportKind.Udp.Name(), rooms, settings.WriteTimeout, clock, hub.Metrics, _ => Ended(session));
        var member = new Member(room, new RoomSession(hub, room, framer));
        _members[session] = member;
        hub.Enter(room);
        _ = SendAsync(room, address, session);
        return member;
    }

    private async Task SendAsync(RoomMember member, SocketAddress address, Session session)
    {
        try
        {
            while (await member.WaitToReadAsync())
            {
                while (member.TryTake(out var lines))
                {
                    // One message per line: a queued run holds the lines of one sender's read.
                    while (!lines.IsEmpty)
                    {
                        var line = MemberQueue.NextLine(ref lines);
                        var text = line.Span is [.., (byte)'\r', (byte)'\n'] ? line[..^2] : line.Span is [.., (byte)'\n'] ? line[..^1] : line;
                        await socket.SendToAsync(text, SocketFlags.None, address, CancellationToken.None);
                        session.Sent(text.Length);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The socket is closing (stop) or the send failed: the member's lines are lost, as UDP's are.
            member.Complete();
        }
        finally
        {
            member.Dispose();
        }
    }

    private sealed record Member(RoomMember Room, RoomSession Protocol);
}
