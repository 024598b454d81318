using System.Text;
using Shout.Protocols;

namespace Shout.Rooms;

/// <summary>
/// Room mode's join over UDP, as a person types it: <c>/join ROOM TOKEN</c> confirms the sender's
/// address with the token the server sent there (<see cref="UdpAddressToken"/>); <c>/join ROOM</c>
/// or anything else from a source that is not a member is answered with that line to send back,
/// the challenge <see cref="Challenge"/>. This reads the first line of a datagram; the lines after a
/// confirming one are the new member's first lines. Pure.
/// </summary>
/// <param name="Room">The room named, if any (not checked here).</param>
/// <param name="Token">The token given, if any.</param>
/// <param name="Length">Bytes of the datagram the line takes, its newline included.</param>
internal readonly record struct UdpJoinLine(string? Room, string? Token, int Length)
{
    /// <summary>Sent instead of the challenge when only a few bytes may go back (a tiny first datagram): "say /join first".</summary>
    public static ReadOnlyMemory<byte> Hint { get; } = "/join"u8.ToArray();

    /// <summary>Longer first lines are not joins (and are not decoded).</summary>
    private const int MaxLength = 128;

    /// <summary>Reads a <c>/join [ROOM [TOKEN]]</c> first line; false for any other first line.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out UdpJoinLine join)
    {
        join = default;
        var newline = datagram.IndexOf((byte)'\n');
        var line = newline < 0 ? datagram : datagram[..newline];
        if (line is [.., (byte)'\r'])
        {
            line = line[..^1];
        }

        if (line.Length > MaxLength || line.Length < 5 || !Ascii.EqualsIgnoreCase(line[..5], "/join"u8) || (line.Length > 5 && line[5] != ' '))
        {
            return false;
        }

        var words = Encoding.UTF8.GetString(line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 3)
        {
            return false;
        }

        join = new UdpJoinLine(words.Length > 1 ? words[1] : null, words.Length > 2 ? words[2] : null, newline < 0 ? datagram.Length : newline + 1);
        return true;
    }

    /// <summary>The line a source sends back to join <paramref name="room"/>: <c>/join ROOM TOKEN</c>, no newline.</summary>
    public static byte[] Challenge(string room, string token) => Encoding.ASCII.GetBytes($"/join {room} {token}");
}
