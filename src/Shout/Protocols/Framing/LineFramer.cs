using System.Buffers;
using System.Globalization;
using System.Text;
using Shout.Text;

namespace Shout.Protocols.Framing;

/// <summary>
/// Line mode: input is split at <c>\n</c> (a preceding <c>\r</c> stays part of the line); each whole
/// line is answered with its uppercase, terminator included. A line of more than
/// <see cref="MaxLineLength"/> bytes (terminator not counted) is answered with
/// <c>ERR line too long (max N bytes)</c> and the connection closes; the line <c>quit</c> is answered
/// with <c>QUIT</c> and the connection closes gracefully. Thread-safe and stateless.
/// </summary>
internal sealed class LineFramer : IShoutFramer
{
    /// <summary>The default line limit: 64 KiB.</summary>
    public const int DefaultMaxLineLength = 64 * 1024;

    private static ReadOnlySpan<byte> Quit => "quit"u8;

    private readonly byte[] _tooLong;

    /// <summary>Creates a framer with the given line limit.</summary>
    /// <param name="maxLineLength">Most bytes in one line, not counting its <c>\n</c>; at least 1.</param>
    public LineFramer(int maxLineLength = DefaultMaxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        MaxLineLength = maxLineLength;
        _tooLong = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"ERR line too long (max {maxLineLength} bytes)\n"));
    }

    /// <summary>Most bytes in one line, not counting its <c>\n</c>.</summary>
    public int MaxLineLength { get; }

    /// <inheritdoc />
    public FrameResult Process(in ReadOnlySequence<byte> input, IBufferWriter<byte> output, bool isCompleted)
    {
        ArgumentNullException.ThrowIfNull(output);
        var reader = new SequenceReader<byte>(input);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (line.Length > MaxLineLength)
            {
                output.Write(_tooLong);
                return new(reader.Consumed, FrameAction.ProtocolError);
            }

            var withTerminator = input.Slice(line.Start, reader.Position);
            ShoutCaseSequence.ToUpper(withTerminator, output, isFinalBlock: true);
            if (IsQuit(line))
            {
                return new(reader.Consumed, FrameAction.Quit);
            }
        }

        if (reader.Remaining > MaxLineLength)
        {
            output.Write(_tooLong);
            return new(input.Length, FrameAction.ProtocolError);
        }

        if (isCompleted && reader.Remaining > 0)
        {
            // The peer will send no newline: answer the unfinished line too, so nothing is lost.
            ShoutCaseSequence.ToUpper(reader.UnreadSequence, output, isFinalBlock: true);
            return new(input.Length, FrameAction.Continue);
        }

        return new(reader.Consumed, FrameAction.Continue);
    }

    /// <summary>
    /// One whole line, terminator included or not (a message's line, or a stream's last line before
    /// the peer's FIN, needs none): answered as <see cref="Process"/> answers a line, refused when
    /// too long, and <c>quit</c> ends the session with or without its terminator.
    /// </summary>
    public FrameResult Line(in ReadOnlySequence<byte> line, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var content = line.Length > 0 && line.Slice(line.Length - 1).FirstSpan[0] == '\n' ? line.Slice(0, line.Length - 1) : line;
        if (content.Length > MaxLineLength)
        {
            output.Write(_tooLong);
            return new(line.Length, FrameAction.ProtocolError);
        }

        ShoutCaseSequence.ToUpper(line, output, isFinalBlock: true);
        return new(line.Length, IsQuit(content) ? FrameAction.Quit : FrameAction.Continue);
    }

    private static bool IsQuit(in ReadOnlySequence<byte> line)
    {
        if (line.Length is < 4 or > 5)
        {
            return false;
        }

        Span<byte> text = stackalloc byte[5];
        line.CopyTo(text);
        var content = text[..(int)line.Length];
        if (content[^1] == '\r')
        {
            content = content[..^1];
        }

        return content.SequenceEqual(Quit);
    }

    /// <summary>The line sent to line-mode clients when the server drains.</summary>
    public ReadOnlySpan<byte> DrainNotice => "QUIT\n"u8;

    /// <summary>A whole line, whose length the line limit bounds (and with it what one turn answers).</summary>
    public long MaxTurnInput => long.MaxValue;

    /// <summary>The answer to a line left unfinished past the line timeout, before the close (line and room mode).</summary>
    internal static ReadOnlyMemory<byte> TimedOutReply { get; } = "ERR line timeout\n"u8.ToArray();
}
