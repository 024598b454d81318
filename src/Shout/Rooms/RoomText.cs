using System.Buffers;
using Shout.Text;

namespace Shout.Rooms;

/// <summary>
/// What a room lets reach another member's terminal: a member's line is delivered to the others
/// with every control character shown escaped (<see cref="VisibleText"/>: <c>\x1B</c>, <c>\u009B</c>,
/// invalid UTF-8 as <c>\xNN</c>), never raw; names are refused unless they follow
/// <see cref="RoomNames"/>. Pure and thread-safe; also the check for lines that arrive from the bus.
/// </summary>
internal static class RoomText
{
    /// <summary>One line's text (without its terminator) with every control escaped, LF and CR included.</summary>
    public static void Sanitize(ReadOnlySpan<byte> text, IBufferWriter<byte> output) =>
        VisibleText.Escape(text, output, keepLineBreaks: false);

    /// <summary>One line's text (without its terminator) with every control escaped, LF and CR included.</summary>
    public static byte[] Sanitize(ReadOnlySpan<byte> text) => VisibleText.Escape(text, keepLineBreaks: false);

    /// <summary>
    /// A run of <c>\n</c>-terminated lines (a bus message's payload) with every control escaped but
    /// the line breaks (<c>\n</c>, and a <c>\r</c> directly before it).
    /// </summary>
    public static byte[] SanitizeLines(ReadOnlySpan<byte> lines) => VisibleText.Escape(lines, keepLineBreaks: true);

    /// <summary>True when <see cref="SanitizeLines"/> would change nothing (so the payload can be passed on as it is).</summary>
    public static bool IsSafeLines(ReadOnlySpan<byte> lines) => VisibleText.IsVisible(lines, keepLineBreaks: true);

    /// <summary>A valid nickname or room name: 1 to 32 ASCII letters, digits, <c>_</c> or <c>-</c> (so never a control).</summary>
    public static bool IsValidName(ReadOnlySpan<char> name) => RoomNames.IsValid(name);
}
