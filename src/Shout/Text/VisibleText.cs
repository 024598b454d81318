using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Shout.Text;

/// <summary>
/// Text made safe to print on a terminal: every byte or character a terminal would act on instead
/// of showing is written as a visible escape, so nothing is lost and nothing is interpreted
/// (a CR that overwrites a line, ESC and C1 sequences that clear the screen, set the title or
/// write the clipboard, bidi overrides that reorder what follows). One notation everywhere
/// (rooms, <c>shout chat</c>, <c>shout send</c> on a terminal; docs/protocol.md):
/// <list type="bullet">
/// <item>C0 controls but TAB (U+0000–U+001F) and DEL (U+007F): <c>\xNN</c>, e.g. ESC is <c>\x1B</c>, CR <c>\x0D</c>;</item>
/// <item>C1 controls (U+0080–U+009F) and the bidi embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069): <c>\uNNNN</c>, e.g. the C1 CSI is <c>\u009B</c>;</item>
/// <item>each byte that is not part of valid UTF-8: <c>\xNN</c> (so the result is always valid UTF-8).</item>
/// </list>
/// With line breaks kept, LF and a CR directly before LF stay as they are. A backslash is not
/// escaped: the form is for reading, not for decoding back. Pure and thread-safe.
/// </summary>
internal static class VisibleText
{
    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    /// <summary>
    /// The bytes at which text may need escaping: C0, DEL, and the lead bytes of every C1 control
    /// (<c>C2</c>) and bidi control (<c>E2</c>). Anything between two of them that is valid UTF-8 is copied whole.
    /// </summary>
    private static readonly SearchValues<byte> Attention = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), 0x7F, 0xC2, 0xE2]);

    /// <summary>
    /// Writes <paramref name="input"/> with every control escaped; returns how many bytes were
    /// consumed. That is all of them when <paramref name="isFinalBlock"/>; otherwise an unfinished
    /// UTF-8 character, or a CR that may yet be followed by LF, at the end is left for the next call.
    /// </summary>
    public static int Escape(ReadOnlySpan<byte> input, IBufferWriter<byte> output, bool keepLineBreaks, bool isFinalBlock = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        var done = 0;
        while (done < input.Length)
        {
            // Text is the common case: copy each run up to the next byte that may need escaping in one step.
            var rest = input[done..];
            var stop = rest.IndexOfAny(Attention);
            var run = stop < 0 ? rest : rest[..stop];
            if (Utf8.IsValid(run))
            {
                output.Write(run);
                done += run.Length;
            }
            else if (!EscapeInvalid(input, ref done, done + run.Length, output, isFinalBlock))
            {
                return done;
            }

            if (stop < 0)
            {
                return done;
            }

            var b = input[done];
            if (b == '\t' || (b == '\n' && keepLineBreaks))
            {
                output.Write([b]);
                done++;
            }
            else if (b == '\r' && keepLineBreaks && done + 1 < input.Length && input[done + 1] == '\n')
            {
                output.Write("\r\n"u8);
                done += 2;
            }
            else if (b == '\r' && keepLineBreaks && done + 1 == input.Length && !isFinalBlock)
            {
                return done;
            }
            else if (b < 0x80)
            {
                WriteByte(output, b);
                done++;
            }
            else if (!EscapeRune(input, ref done, output, isFinalBlock))
            {
                return done;
            }
        }

        return done;
    }

    /// <summary>A run with bytes that are not UTF-8 (rare): each character copied, each bad byte escaped.</summary>
    private static bool EscapeInvalid(ReadOnlySpan<byte> input, ref int done, int end, IBufferWriter<byte> output, bool isFinalBlock)
    {
        // The run ends before a byte that is ASCII or a lead byte, so no character decoded in it reaches past it.
        while (done < end)
        {
            if (!EscapeRune(input, ref done, output, isFinalBlock))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One character (escaped if it is a C1 or bidi control) or one bad part; false when more input is needed.</summary>
    private static bool EscapeRune(ReadOnlySpan<byte> input, ref int done, IBufferWriter<byte> output, bool isFinalBlock)
    {
        var status = Rune.DecodeFromUtf8(input[done..], out var rune, out var length);
        if (status == OperationStatus.NeedMoreData && !isFinalBlock)
        {
            return false;
        }

        if (status != OperationStatus.Done)
        {
            // Not UTF-8 (or cut short at the end): show each byte of the bad part.
            foreach (var bad in input.Slice(done, length))
            {
                WriteByte(output, bad);
            }
        }
        else if (rune.IsAscii ? rune.Value is < 0x20 or 0x7F : IsInvisibleControl(rune.Value))
        {
            if (rune.IsAscii)
            {
                WriteByte(output, (byte)rune.Value);
            }
            else
            {
                WriteCodePoint(output, rune.Value);
            }
        }
        else
        {
            output.Write(input.Slice(done, length));
        }

        done += length;
        return true;
    }

    /// <summary>The escaped form of the whole of <paramref name="input"/>.</summary>
    public static byte[] Escape(ReadOnlySpan<byte> input, bool keepLineBreaks = false)
    {
        if (IsVisible(input, keepLineBreaks))
        {
            return input.ToArray();
        }

        var output = new ArrayBufferWriter<byte>(input.Length + 16);
        Escape(input, output, keepLineBreaks);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The escaped form of <paramref name="input"/>, as text.</summary>
    public static string EscapeToString(ReadOnlySpan<byte> input, bool keepLineBreaks = false)
    {
        if (IsVisible(input, keepLineBreaks))
        {
            return Encoding.UTF8.GetString(input);
        }

        var output = new ArrayBufferWriter<byte>(input.Length + 16);
        Escape(input, output, keepLineBreaks);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>True when <see cref="Escape(ReadOnlySpan{byte}, bool)"/> would change nothing: valid UTF-8 without controls.</summary>
    public static bool IsVisible(ReadOnlySpan<byte> input, bool keepLineBreaks = false)
    {
        var done = 0;
        while (done < input.Length)
        {
            var rest = input[done..];
            var stop = rest.IndexOfAny(Attention);
            if (!Utf8.IsValid(stop < 0 ? rest : rest[..stop]))
            {
                return false;
            }

            if (stop < 0)
            {
                return true;
            }

            done += stop;
            var b = input[done];
            if (b == '\t' || (b == '\n' && keepLineBreaks))
            {
                done++;
            }
            else if (b == '\r' && keepLineBreaks && done + 1 < input.Length && input[done + 1] == '\n')
            {
                done += 2;
            }
            else if (b < 0x80 || Rune.DecodeFromUtf8(input[done..], out var rune, out var length) != OperationStatus.Done || IsInvisibleControl(rune.Value))
            {
                return false;
            }
            else
            {
                done += length;
            }
        }

        return true;
    }

    /// <summary>C1 controls and the bidi embeddings, overrides and isolates (the Trojan Source set, CVE-2021-42574).</summary>
    public static bool IsInvisibleControl(int codePoint) =>
        codePoint is (>= 0x80 and <= 0x9F) or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    private static void WriteByte(IBufferWriter<byte> output, byte b) =>
        output.Write([(byte)'\\', (byte)'x', Hex[b >> 4], Hex[b & 0xF]]);

    private static void WriteCodePoint(IBufferWriter<byte> output, int codePoint) =>
        output.Write([(byte)'\\', (byte)'u', Hex[(codePoint >> 12) & 0xF], Hex[(codePoint >> 8) & 0xF], Hex[(codePoint >> 4) & 0xF], Hex[codePoint & 0xF]]);
}
