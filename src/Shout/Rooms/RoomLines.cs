using System.Buffers;
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
        var line = new ArrayBufferWriter<byte>(Encoding.UTF8.GetByteCount(nick) + 3 + shouted.Length);
        WriteSaid(line, Prefix(nick), shouted);
        return line.WrittenSpan.ToArray();
    }

    /// <summary>The sender's name and <c>": "</c> in UTF-8, the front of each of its lines to the others.</summary>
    public static byte[] Prefix(string nick) => Encoding.UTF8.GetBytes(nick + ": ");

    /// <summary>
    /// Appends one <see cref="Said"/> line: <paramref name="prefix"/>, the line's text with its
    /// controls shown escaped (<see cref="RoomText.Sanitize(ReadOnlySpan{byte}, IBufferWriter{byte})"/>:
    /// a member never writes into another's terminal), and its terminator (<c>\r\n</c> or <c>\n</c>, a
    /// <c>\n</c> if it has none).
    /// </summary>
    public static void WriteSaid(IBufferWriter<byte> output, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> shouted)
    {
        ArgumentNullException.ThrowIfNull(output);
        var terminator = shouted is [.., (byte)'\r', (byte)'\n'] ? 2 : shouted is [.., (byte)'\n'] ? 1 : 0;
        output.Write(prefix);
        RoomText.Sanitize(shouted[..^terminator], output);
        output.Write(terminator == 0 ? "\n"u8 : shouted[^terminator..]);
    }

    /// <summary>
    /// Appends <c>* [N] LINE</c>: a line from the room's history (on joining, or resuming), numbered,
    /// so a client tells it from a live line and knows where it stands. <paramref name="line"/> keeps its terminator.
    /// </summary>
    public static void WriteHistory(IBufferWriter<byte> output, long number, ReadOnlySpan<byte> line)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write("* ["u8);
        var digits = output.GetSpan(20);
        number.TryFormat(digits, out var length, provider: System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(length);
        output.Write("] "u8);
        output.Write(line);
        if (line is not [.., (byte)'\n'])
        {
            output.Write("\n"u8);
        }
    }

    /// <summary><c>* [at ROOM N EPOCH]</c>: the number of the room's last line so far; each room line after it counts one.</summary>
    public static byte[] Position(string room, long last, string epoch) =>
        Line(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"* [at {room} {last} {epoch}]"));

    /// <summary><c>* [lost N] …</c>: lines a resuming member missed that the room no longer holds.</summary>
    public static byte[] Lost(string room, long lost) =>
        Line(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"* [lost {lost}] lines of {room} are older than its history"));

    public static byte[] Resumed(string room) => Line($"OK resume {room}");

    public static byte[] Joined(string nick, string room) => Line($"* {nick} joined {room}");

    public static byte[] Left(string nick, string room) => Line($"* {nick} left {room}");

    public static byte[] Renamed(string before, string after) => Line($"* {before} is now {after}");

    public static byte[] NickSet(string nick) => Line($"OK nick {nick}");

    public static byte[] RoomSet(string room) => Line($"OK room {room}");

    public static byte[] Who(string room, IEnumerable<string> nicks) => Line($"WHO {room} {string.Join(' ', nicks)}".TrimEnd());

    public static byte[] Error(string message) => Line($"ERR {message}");

    /// <summary>A new member's first line: who and where it is, and what it can do.</summary>
    public static byte[] Greeting(string nick, string room) => Line($"* you are {nick} in {room} (/nick NAME, /join ROOM, /who, quit)");

    /// <summary>The last line before an idle close: why, so a quiet member is not left guessing.</summary>
    public static byte[] IdleClosed(TimeSpan idle) => Line($"* closed: idle for {Duration(idle)} (--idle-timeout)");

    /// <summary><c>5m</c>, <c>30s</c>, <c>1h30m</c>, <c>1.5s</c>: as the option is written.</summary>
    internal static string Duration(TimeSpan span)
    {
        if (span.Ticks % TimeSpan.TicksPerSecond != 0 || span < TimeSpan.FromSeconds(1))
        {
            return span.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s";
        }

        var text = (span.Days * 24 + span.Hours > 0 ? $"{span.Days * 24 + span.Hours}h" : "")
            + (span.Minutes > 0 ? $"{span.Minutes}m" : "") + (span.Seconds > 0 ? $"{span.Seconds}s" : "");
        return text;
    }

    public static ReadOnlyMemory<byte> QuitLine { get; } = "QUIT\n"u8.ToArray();

    private static byte[] Line(string text) => Encoding.UTF8.GetBytes(text + "\n");
}
