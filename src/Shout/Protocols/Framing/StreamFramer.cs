using System.Buffers;
using Shout.Text;

namespace Shout.Protocols.Framing;

/// <summary>
/// The tutorial's behaviour: every byte is answered as soon as it is read, with no framing at all.
/// Only an incomplete UTF-8 character at the end of the input waits for its remaining bytes.
/// </summary>
internal sealed class StreamFramer : IShoutFramer
{
    /// <summary>The shared instance.</summary>
    public static StreamFramer Instance { get; } = new();

    private StreamFramer()
    {
    }

    /// <summary>Kestrel's default write-buffer limit: one turn answers at most that much before flushing.</summary>
    public long MaxTurnInput => 64 * 1024;

    /// <summary>Nothing: a stream client is told of a drain by the close alone.</summary>
    public ReadOnlySpan<byte> DrainNotice => [];

    /// <inheritdoc />
    public FrameResult Process(in ReadOnlySequence<byte> input, IBufferWriter<byte> output, bool isCompleted)
        => new(ShoutCaseSequence.ToUpper(input, output, isCompleted), FrameAction.Continue);
}
