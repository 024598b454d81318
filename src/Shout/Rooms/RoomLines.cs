using System.Text;

namespace Shout.Rooms;

/// <summary>
/// The exact lines a room member receives besides its own uppercased lines (docs/rooms.md lists
/// them). Pure: every method returns a new array, shared by every recipient of the line.
/// </summary>
internal static class RoomLines
{
    /// <summary><c>NICK: TEXT</c> — another member's line; <paramref name="shouted"/> keeps its terminator.</summary>
    public static byte[] Said(string nick, ReadOnlySpan<byte> shouted)
    {
        var nickLength = Encoding.UTF8.GetByteCount(nick);
        var terminated = shouted.Length > 0 && shouted[^1] == '\n';
        var line = new byte[nickLength + 2 + shouted.Length + (terminated ? 0 : 1)];
        Encoding.UTF8.GetBytes(nick, line);
        line[nickLength] = (byte)':';
        line[nickLength + 1] = (byte)' ';
        shouted.CopyTo(line.AsSpan(nickLength + 2));
        line[^1] = (byte)'\n';
        return line;
    }

    public static byte[] Joined(string nick, string room) => Line($"* {nick} joined {room}");

    public static byte[] Left(string nick, string room) => Line($"* {nick} left {room}");

    public static byte[] Renamed(string before, string after) => Line($"* {before} is now {after}");

    public static byte[] NickSet(string nick) => Line($"OK nick {nick}");

    public static byte[] RoomSet(string room) => Line($"OK room {room}");

    public static byte[] Who(string room, IEnumerable<string> nicks) => Line($"WHO {room} {string.Join(' ', nicks)}".TrimEnd());

    public static byte[] Error(string message) => Line($"ERR {message}");

    public static ReadOnlyMemory<byte> QuitLine { get; } = "QUIT\n"u8.ToArray();

    private static byte[] Line(string text) => Encoding.UTF8.GetBytes(text + "\n");
}
