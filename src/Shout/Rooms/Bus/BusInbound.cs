using System.Text;

namespace Shout.Rooms.Bus;

/// <summary>
/// Checks a message from the bus as a member's line would be checked, and gives the exact bytes the
/// room's members get. A stranger on the bus (a bare NATS client) can at most produce a line an
/// instance could have sent: a notice with valid names, or lines each starting with a valid
/// nickname and <c>": "</c>, with no control character, within the line limit. Pure, thread-safe.
/// </summary>
internal static class BusInbound
{
    /// <summary>
    /// <see cref="BusRefusal.None"/> with the payload and its line count when <paramref name="message"/>
    /// may be delivered; otherwise why not.
    /// </summary>
    /// <param name="message">The decoded message.</param>
    /// <param name="subjectRoom">The room named by the subject it came on.</param>
    /// <param name="maxLineLength">The line limit of members' lines, in bytes (<c>--max-line</c>).</param>
    /// <param name="payload">The bytes the room's members get.</param>
    /// <param name="lines">How many lines they are.</param>
    public static BusRefusal Check(in BusMessage message, ReadOnlySpan<char> subjectRoom, int maxLineLength,
        out ReadOnlyMemory<byte> payload, out int lines)
    {
        payload = default;
        lines = 0;
        if (message.Sender < 1 || message.Sequence < 1 || (message.Kind == BusKind.Final && message.Shape != BusShape.Left)
            || (message.Shape != BusShape.Said && !message.Payload.IsEmpty) || (message.Shape != BusShape.Renamed && message.Other.Length > 0))
        {
            return BusRefusal.Shape;
        }

        if (!RoomNames.IsValid(message.Room) || !subjectRoom.SequenceEqual(message.Room) || !RoomNames.IsValid(message.Nick)
            || (message.Shape == BusShape.Renamed && !RoomNames.IsValid(message.Other)))
        {
            return BusRefusal.Name;
        }

        lines = 1;
        switch (message.Shape)
        {
            case BusShape.Joined:
                payload = RoomLines.Joined(message.Nick, message.Room);
                return BusRefusal.None;
            case BusShape.Left:
                payload = RoomLines.Left(message.Nick, message.Room);
                return BusRefusal.None;
            case BusShape.Renamed:
                payload = RoomLines.Renamed(message.Other, message.Nick);
                return BusRefusal.None;
            default:
                payload = message.Payload;
                return CheckSaid(message.Payload.Span, message.Nick, maxLineLength, out lines);
        }
    }

    /// <summary>Every line <c>NICK: TEXT\n</c> (or <c>\r\n</c>), safe text, at most as many and as long as an instance sends.</summary>
    private static BusRefusal CheckSaid(ReadOnlySpan<byte> said, string nick, int maxLineLength, out int lines)
    {
        lines = 0;
        Span<byte> prefix = stackalloc byte[RoomNames.MaxLength + 2];
        prefix = prefix[..Encoding.UTF8.GetBytes(nick + ": ", prefix)];

        // Uppercasing can make a line half as long again (2-byte letters whose capital takes 3).
        var longest = (long)maxLineLength * 3 / 2;
        if (said.IsEmpty || said[^1] != '\n')
        {
            return BusRefusal.Text;
        }

        while (!said.IsEmpty)
        {
            var end = said.IndexOf((byte)'\n');
            var line = said[..end];
            said = said[(end + 1)..];
            if (++lines > RoomBatch.MaxLines)
            {
                return BusRefusal.Size;
            }

            if (!line.StartsWith(prefix))
            {
                return BusRefusal.Text;
            }

            var text = line[prefix.Length..];
            if (text is [.., (byte)'\r'])
            {
                text = text[..^1];
            }

            if (text.Length > longest)
            {
                return BusRefusal.Size;
            }

            if (!BusText.IsSafe(text))
            {
                return BusRefusal.Text;
            }
        }

        return BusRefusal.None;
    }
}
