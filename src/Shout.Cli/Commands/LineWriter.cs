using System.Buffers;

namespace Shout.Cli.Commands;

/// <summary>
/// Writes a reply to stdout as it arrives, whole lines per write: clients run side by side into one
/// pipe must not interleave mid-line, and a server that answers but keeps the connection open must
/// still be seen at once (nc prints at once too).
/// </summary>
internal sealed class LineWriter(Stream output)
{
    private readonly ArrayBufferWriter<byte> _partial = new();
    private bool _lastWasNewline = true;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var end = data.Span.LastIndexOf((byte)'\n');
        if (end < 0)
        {
            _partial.Write(data.Span);
            return;
        }

        _partial.Write(data.Span[..(end + 1)]);
        await FlushPartialAsync(cancellationToken);
        _partial.Write(data.Span[(end + 1)..]);
    }

    /// <summary>Shows a partial line now (the server paused); the end will still add the newline.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken) => FlushPartialAsync(cancellationToken);

    /// <summary>Writes what is left, ending the output with a newline.</summary>
    public async ValueTask EndAsync(CancellationToken cancellationToken)
    {
        if (_partial.WrittenCount > 0 || !_lastWasNewline)
        {
            _partial.Write("\n"u8);
        }

        await FlushPartialAsync(cancellationToken);
    }

    private async ValueTask FlushPartialAsync(CancellationToken cancellationToken)
    {
        if (_partial.WrittenCount == 0)
        {
            return;
        }

        await output.WriteAsync(_partial.WrittenMemory, cancellationToken);
        await output.FlushAsync(cancellationToken);
        _lastWasNewline = _partial.WrittenSpan[^1] == '\n';
        _partial.ResetWrittenCount();
    }
}
