namespace Shout.Rooms;

/// <summary>
/// The writer of a member on the message seam (a WebSocket session, a UDP source): drains the
/// member's queue and sends each queued line as one message, without its line terminator, in the
/// order the room said them. The transport gives only the send; its failures end the writer and
/// are the caller's to map.
/// </summary>
internal static class MessageMemberWriter
{
    /// <param name="member">The member whose queue is drained until it completes.</param>
    /// <param name="state">What <paramref name="send"/> needs (the socket, the address, the session).</param>
    /// <param name="send">Sends one line as one message; returns when the transport took it.</param>
    public static async Task RunAsync<TState>(RoomMember member, TState state, Func<TState, ReadOnlyMemory<byte>, ValueTask> send)
    {
        while (await member.WaitToReadAsync())
        {
            while (member.TryTake(out var lines))
            {
                // A queued run holds the lines of one sender's read: one message per line.
                while (!lines.IsEmpty)
                {
                    await send(state, Text(MemberQueue.NextLine(ref lines)));
                }
            }
        }
    }

    /// <summary>A line without its terminator (<c>\n</c> or <c>\r\n</c>).</summary>
    public static ReadOnlyMemory<byte> Text(ReadOnlyMemory<byte> line) =>
        line.Span is [.., (byte)'\r', (byte)'\n'] ? line[..^2] : line.Span is [.., (byte)'\n'] ? line[..^1] : line;
}
