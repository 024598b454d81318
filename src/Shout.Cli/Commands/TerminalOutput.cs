using System.Buffers;
using Shout.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// Where <c>send</c> and <c>chat</c> print what a server said. A server (any server, a room's other
/// members through it) must not drive the user's terminal: when stdout is a terminal, control
/// characters are shown escaped (<see cref="VisibleText"/>, line breaks kept); when it is a pipe
/// or a file the bytes go out exactly as received, so <c>shout send &lt; photo.jpg &gt; photo.out</c>
/// stays byte-exact (as <c>nc</c> does).
/// </summary>
internal static class TerminalOutput
{
    /// <summary>True when stdout is a terminal, so what is printed must be made visible.</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>Standard output as a stream: escaping on a terminal, raw otherwise. Dispose it to write what it holds back.</summary>
    public static Stream OpenStandardOutput()
    {
        var stdout = Console.OpenStandardOutput();
        return IsTerminal ? new VisibleStream(stdout) : stdout;
    }

    /// <summary>
    /// Escapes as it writes. An unfinished UTF-8 character or a CR at the end of a write is held
    /// until the next one (it may yet be valid text or a CRLF), and written escaped at dispose.
    /// </summary>
    private sealed class VisibleStream(Stream inner) : Stream
    {
        private readonly ArrayBufferWriter<byte> _escaped = new(4096);
        private byte[] _held = [];
        private bool _done;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Escape(buffer, isFinalBlock: false);
            inner.Write(_escaped.WrittenSpan);
            _escaped.ResetWrittenCount();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Escape(buffer.Span, isFinalBlock: false);
            await inner.WriteAsync(_escaped.WrittenMemory, cancellationToken);
            _escaped.ResetWrittenCount();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_done)
            {
                _done = true;
                Escape([], isFinalBlock: true);
                inner.Write(_escaped.WrittenSpan);
                inner.Flush();
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (_done)
            {
                return;
            }

            _done = true;
            Escape([], isFinalBlock: true);
            await inner.WriteAsync(_escaped.WrittenMemory);
            await inner.FlushAsync();
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        private void Escape(ReadOnlySpan<byte> buffer, bool isFinalBlock)
        {
            var input = buffer;
            byte[]? joined = null;
            if (_held.Length > 0)
            {
                joined = [.. _held, .. buffer];
                input = joined;
            }

            var consumed = VisibleText.Escape(input, _escaped, keepLineBreaks: true, isFinalBlock);
            _held = input[consumed..].ToArray();
        }
    }
}
