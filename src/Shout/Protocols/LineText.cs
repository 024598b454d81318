namespace Shout.Protocols;

/// <summary>Lines in a run of bytes, as a peer of the message seam sends a protocol's lines: one message per line, without its terminator.</summary>
internal static class LineText
{
    /// <summary>The first line of <paramref name="rest"/> with its <c>\n</c> (all of it when it has none); <paramref name="rest"/> keeps what follows.</summary>
    public static ReadOnlyMemory<byte> Next(ref ReadOnlyMemory<byte> rest)
    {
        var newline = rest.Span.IndexOf((byte)'\n');
        var line = newline < 0 ? rest : rest[..(newline + 1)];
        rest = rest[line.Length..];
        return line;
    }

    /// <summary>A line without its terminator (<c>\n</c> or <c>\r\n</c>).</summary>
    public static ReadOnlyMemory<byte> WithoutTerminator(ReadOnlyMemory<byte> line) =>
        line.Span is [.., (byte)'\r', (byte)'\n'] ? line[..^2] : line.Span is [.., (byte)'\n'] ? line[..^1] : line;

    /// <summary>
    /// Where to cut <paramref name="answer"/> to at most <paramref name="max"/> bytes without splitting
    /// a UTF-8 character (at most three continuation bytes are given back; a longer run is not a character).
    /// </summary>
    public static int Cut(ReadOnlySpan<byte> answer, int max)
    {
        if (answer.Length <= max)
        {
            return answer.Length;
        }

        for (var n = max; n >= Math.Max(0, max - 3); n--)
        {
            if ((answer[n] & 0xC0) != 0x80)
            {
                return n;
            }
        }

        return max;
    }
}
