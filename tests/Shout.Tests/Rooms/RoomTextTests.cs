using System.Buffers;
using System.Text;
using Shout.Rooms;
using Shout.Text;

namespace Shout.Tests.Rooms;

/// <summary>
/// Row 29: what one member's text may do to another's terminal. Every control is shown escaped,
/// visibly and in one notation; nothing is dropped; printable text is untouched.
/// </summary>
public sealed class RoomTextTests
{
    [Theory]
    [InlineData("HELLO", "HELLO")]
    [InlineData("A\tB", "A\tB")] // TAB is kept: it only moves the cursor right
    [InlineData("FAKE\rBOB: I AM BOB", "FAKE\\x0DBOB: I AM BOB")] // CR overwriting the line with a fake speaker
    [InlineData("ONE\nTWO", "ONE\\x0ATWO")] // LF inside one line's text
    [InlineData("\u001b[2J\u001b[H", "\\x1B[2J\\x1B[H")] // clear screen, cursor home
    [InlineData("\u001b]0;PWNED\u0007", "\\x1B]0;PWNED\\x07")] // window title, BEL-terminated
    [InlineData("\u001b]52;c;Y3VybCBldmlsfHNo\u0007", "\\x1B]52;c;Y3VybCBldmlsfHNo\\x07")] // OSC 52 clipboard write
    [InlineData("\u001b]2;T\u001b\\", "\\x1B]2;T\\x1B\\")] // OSC ended by ST (ESC \)
    [InlineData("\u009b2J", "\\u009B2J")] // C1 CSI as UTF-8 (C2 9B)
    [InlineData("\u009d0;T\u009c", "\\u009D0;T\\u009C")] // C1 OSC ... ST
    [InlineData("\u0085", "\\u0085")] // NEL, the first and last C1 below
    [InlineData("\u0080\u009f", "\\u0080\\u009F")]
    [InlineData("A\u007fB", "A\\x7FB")] // DEL
    [InlineData("A\0B", "A\\x00B")] // NUL
    [InlineData("\u0008\u0008\u0008", "\\x08\\x08\\x08")] // backspaces that would erase the prefix
    [InlineData("ABC\u202eDEF", "ABC\\u202EDEF")] // right-to-left override (Trojan Source)
    [InlineData("\u202a\u202b\u202c\u202d", "\\u202A\\u202B\\u202C\\u202D")]
    [InlineData("\u2066X\u2067Y\u2068Z\u2069", "\\u2066X\\u2067Y\\u2068Z\\u2069")] // isolates
    [InlineData("\u200fRTL MARK", "\u200fRTL MARK")] // a bidi mark (not an override) is text
    [InlineData("ÉTÉ \u2C7E 日本 😀", "ÉTÉ \u2C7E 日本 😀")] // any other Unicode passes as it is
    [InlineData("C:\\PATH\\x1B", "C:\\PATH\\x1B")] // a backslash is not escaped
    public void A_line_s_controls_are_shown_escaped(string text, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(RoomText.Sanitize(Encoding.UTF8.GetBytes(text))));
        Assert.Equal(expected == text, VisibleText.IsVisible(Encoding.UTF8.GetBytes(text)));
    }

    [Theory]
    [InlineData(new byte[] { 0x41, 0xFF, 0x42 }, "A\\xFFB")] // never valid
    [InlineData(new byte[] { 0x9B, 0x32, 0x4A }, "\\x9B2J")] // a bare 8-bit CSI byte
    [InlineData(new byte[] { 0xC2 }, "\\xC2")] // cut short at the end
    [InlineData(new byte[] { 0xE2, 0x80 }, "\\xE2\\x80")]
    [InlineData(new byte[] { 0xC0, 0x80 }, "\\xC0\\x80")] // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "\\xED\\xA0\\x80")] // a UTF-16 surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, "\\xF4\\x90\\x80\\x80")] // past U+10FFFF
    public void Bytes_that_are_not_UTF8_are_shown_as_hex_so_the_result_is_always_UTF8(byte[] bytes, string expected)
    {
        var sanitized = RoomText.Sanitize(bytes);
        Assert.Equal(expected, Encoding.ASCII.GetString(sanitized));
        Assert.True(System.Text.Unicode.Utf8.IsValid(sanitized));
    }

    [Theory]
    [InlineData("A: ONE\nB: TWO\r\n", "A: ONE\nB: TWO\r\n")] // line breaks of a payload stay
    [InlineData("A: X\rY\n", "A: X\\x0DY\n")] // a CR not before LF does not
    [InlineData("A: \u001b[2J\n", "A: \\x1B[2J\n")]
    [InlineData("A: END\r", "A: END\\x0D")]
    public void A_payload_of_lines_keeps_its_line_breaks(string payload, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        Assert.Equal(expected, Encoding.UTF8.GetString(RoomText.SanitizeLines(bytes)));
        Assert.Equal(expected == payload, RoomText.IsSafeLines(bytes));
    }

    [Fact]
    public void Streaming_leaves_an_unfinished_character_or_a_CR_for_the_next_block()
    {
        var output = new ArrayBufferWriter<byte>();
        byte[] first = [0x41, 0xE2, 0x82];
        Assert.Equal(1, VisibleText.Escape(first, output, keepLineBreaks: true, isFinalBlock: false));
        Assert.Equal(3, VisibleText.Escape([0xE2, 0x82, 0xAC, 0x0D], output, keepLineBreaks: true, isFinalBlock: false));
        Assert.Equal(2, VisibleText.Escape([0x0D, 0x0A], output, keepLineBreaks: true, isFinalBlock: false));
        Assert.Equal(1, VisibleText.Escape([0x0D], output, keepLineBreaks: true, isFinalBlock: true));
        Assert.Equal("A€\r\n\\x0D", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("HELLO\n", "alice: HELLO\n")]
    [InlineData("HELLO\r\n", "alice: HELLO\r\n")] // the CR before LF is the line's framing, kept as it came
    [InlineData("HELLO", "alice: HELLO\n")]
    [InlineData("\rBOB: I AM BOB\r\n", "alice: \\x0DBOB: I AM BOB\r\n")]
    [InlineData("\u001b]52;c;QUJD\u0007\n", "alice: \\x1B]52;c;QUJD\\x07\n")]
    [InlineData("X\r\r\n", "alice: X\\x0D\r\n")]
    public void Others_get_the_line_escaped_with_its_terminator(string shouted, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(RoomLines.Said("alice", Encoding.UTF8.GetBytes(shouted))));

    [Theory]
    [InlineData("bob\u001b[2J")]
    [InlineData("bob\r")]
    [InlineData("\u009bbob")]
    [InlineData("b\u202eob")]
    [InlineData("bob\t")]
    [InlineData("bob\0")]
    public void A_name_with_a_control_is_not_a_name(string name) => Assert.False(RoomText.IsValidName(name));
}
