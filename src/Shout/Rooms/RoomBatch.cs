using System.Buffers;
using Shout.Protocols.Framing;

namespace Shout.Rooms;

/// <summary>
/// The plain lines of one read of one member, formatted once: the sender's own answer (each line's
/// uppercase, exactly as line mode answers it) and the room's copy (<c>NICK: TEXT\n</c> per line).
/// Both are handed on as shared, immutable payloads, so the room's cost per line does not grow with
/// the number of members. Not thread-safe: one per read.
/// </summary>
internal sealed class RoomBatch
{
    /// <summary>Most lines in one batch, and at most a quarter of a member's queue, so a queue takes several whole.</summary>
    public const int MaxLines = 256;

    /// <summary>Most bytes of answer in one batch.</summary>
    public const int MaxBytes = 32 * 1024;

    private readonly LineFramer _framer;
    private readonly byte[] _prefix;
    private ArrayBufferWriter<byte>? _own;
    private ArrayBufferWriter<byte>? _said;
    private readonly int _capacity;
    private readonly int _maxLines;

    /// <param name="framer">Uppercases and judges each line, as in line mode.</param>
    /// <param name="prefix">The sender's name and <c>": "</c>, in UTF-8.</param>
    /// <param name="expected">About how many bytes of input this batch may hold.</param>
    /// <param name="queueLength">The members' queue length (<see cref="ShoutRoomOptions.QueueLength"/>).</param>
    public RoomBatch(LineFramer framer, byte[] prefix, long expected, int queueLength)
    {
        _maxLines = Math.Clamp(queueLength / 4, 1, MaxLines);
        _framer = framer;
        _prefix = prefix;
        _capacity = (int)Math.Clamp(expected + 16, 64, MaxBytes + 1024);
    }

    /// <summary>Lines in the batch (answered and said).</summary>
    public int Lines { get; private set; }

    /// <summary>True when another line would make the batch too big.</summary>
    public bool Full => Lines >= _maxLines || (_own?.WrittenCount ?? 0) >= MaxBytes;

    /// <summary>The sender's own answer so far (its uppercased lines, and a final <c>QUIT</c> or <c>ERR</c>).</summary>
    public ReadOnlyMemory<byte> Own => _own?.WrittenMemory ?? default;

    /// <summary>The room's copy so far.</summary>
    public ReadOnlyMemory<byte> Said => _said?.WrittenMemory ?? default;

    /// <summary>Lines in <see cref="Own"/>: <see cref="Lines"/>, plus one when the framer ended the batch with its answer.</summary>
    public int OwnLines { get; private set; }

    /// <summary>
    /// Adds one whole line (terminator included; none on a message's line or a final unfinished one). When the framer ends the
    /// member (quit, line too long), its answer goes into <see cref="Own"/> only, and its action is returned.
    /// </summary>
    public FrameAction Add(in ReadOnlySequence<byte> line)
    {
        _own ??= new ArrayBufferWriter<byte>(_capacity);
        var mark = _own.WrittenCount;
        var frame = _framer.Line(line, _own);
        OwnLines++;
        if (frame.Action != FrameAction.Continue)
        {
            return frame.Action;
        }

        var shouted = _own.WrittenSpan[mark..];
        _said ??= new ArrayBufferWriter<byte>(_capacity + (_maxLines / 4 * _prefix.Length));
        RoomLines.WriteSaid(_said, _prefix, shouted);

        Lines++;
        return FrameAction.Continue;
    }
}
