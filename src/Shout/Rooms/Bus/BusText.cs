using System.Buffers;
using System.Text;

namespace Shout.Rooms.Bus;

/// <summary>
/// Which text from the bus may reach a member's terminal: valid UTF-8 with no C0 control but tab,
/// no DEL and no C1 control (U+0080 to U+009F). Invalid UTF-8 is refused too, since a lone byte
/// 0x9B is a C1 CSI to a terminal not in UTF-8 mode. The one place the rule lives for the bus, so a
/// shared rule for members' lines can replace it. Pure, thread-safe.
/// </summary>
internal static class BusText
{
    /// <summary>True when <paramref name="text"/> (one line, terminator removed) is safe to show.</summary>
    public static bool IsSafe(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(text, out var rune, out var consumed);
            if (status != OperationStatus.Done || IsControl(rune))
            {
                return false;
            }

            text = text[consumed..];
        }

        return true;
    }

    private static bool IsControl(Rune rune) => rune.Value is (< 0x20 and not '\t') or (>= 0x7F and <= 0x9F);
}
