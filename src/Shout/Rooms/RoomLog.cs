using Shout.Protocols;
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;

namespace Shout.Rooms;

/// <summary>
/// The recent lines of one room on this instance (<c>NICK: TEXT</c>, its own members' and the other
/// instances'), numbered 1, 2, 3 … in the order this instance delivered them, under an epoch that
/// names this numbering. Held as the shared payloads the fan-out already made (one entry per sender's
/// read, not per line, and never per member), bounded by lines, bytes and age. Not thread-safe on its
/// own: callers hold <see cref="Gate"/>, the same lock under which they fan the lines out, so every
/// member receives a room's lines in the log's order.
/// </summary>
internal sealed partial class RoomLog
{
    private const string EpochLetters = "abcdefghijkmnpqrstuvwxyz23456789";

    private Entry[] _ring = new Entry[4];
    private int _head;
    private int _count;
    private long _held;
    private long _bytes;

    /// <param name="now">When it is made (UTC ticks): a new log counts as just active.</param>
    /// <param name="coveredAfter">With shared offsets, the room stream's sequence after which every line of the room will be in this log.</param>
    public RoomLog(long now, long coveredAfter = 0)
    {
        Touched = now;
        Epoch = RandomNumberGenerator.GetString(EpochLetters, 8);
        CoveredAfter = coveredAfter;
        LastSeq = coveredAfter;
    }

    /// <summary>Taken around every append and the fan-out of the same lines, and around a join's snapshot.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Eight letters and digits, new for every log: an offset means something only with it.</summary>
    public string Epoch { get; }

    /// <summary>The number of the room's last line; 0 before the first.</summary>
    public long Last { get; private set; }

    /// <summary>When a line was last appended (UTC ticks): the least recently used logs are forgotten first.</summary>
    public long Touched { get; private set; }

    /// <summary>Bytes of lines held.</summary>
    public long Bytes => _bytes;

    /// <summary>
    /// Numbers <paramref name="lines"/> more lines (<paramref name="payload"/>, whole lines, kept as
    /// given: it must not change) and forgets the oldest beyond the bounds. Under <see cref="Gate"/>.
    /// </summary>
    public void Append(ReadOnlyMemory<byte> payload, int lines, long ticks, int maxLines, long maxBytes, long oldest, long seq = 0)
    {
        Last += lines;
        LastSeq = Math.Max(LastSeq, seq);
        Touched = ticks;
        if (_count == _ring.Length)
        {
            var grown = new Entry[_ring.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _ring[(_head + i) % _ring.Length];
            }

            (_ring, _head) = (grown, 0);
        }

        _ring[(_head + _count) % _ring.Length] = new Entry(Last, lines, ticks, payload, seq);
        _count++;
        _held += lines;
        _bytes += payload.Length;

        // Keep the newest maxLines lines: an entry goes once the ones after it hold enough.
        while (_count > 0 && (_held - First.Lines >= maxLines || _bytes > maxBytes || First.Ticks < oldest))
        {
            DropFirst();
        }
    }

    /// <summary>
    /// Writes the held lines numbered after <paramref name="after"/>, at most the newest
    /// <paramref name="maxLines"/> and none older than <paramref name="oldest"/> (UTC ticks), each as
    /// <c>* [N] LINE</c>; returns how many it wrote, and in <paramref name="lost"/> how many lines after
    /// <paramref name="after"/> are no longer held. Under <see cref="Gate"/>.
    /// </summary>
    public int Write(IBufferWriter<byte> output, long after, int maxLines, long oldest, out long lost)
    {
        while (_count > 0 && First.Ticks < oldest)
        {
            DropFirst();
        }

        var firstHeld = _count == 0 ? Last + 1 : First.Last - First.Lines + 1;
        var from = Math.Max(Math.Max(firstHeld, Last - maxLines + 1), after + 1);
        lost = Math.Max(0, from - (after + 1));
        var written = 0;
        for (var i = 0; i < _count; i++)
        {
            var entry = _ring[(_head + i) % _ring.Length];
            var number = entry.Last - entry.Lines;
            var rest = entry.Payload;
            while (!rest.IsEmpty)
            {
                var line = LineText.Next(ref rest);
                if (++number < from)
                {
                    continue;
                }

                RoomLines.WriteHistory(output, number, line.Span);
                written++;
            }
        }

        return written;
    }

    private ref Entry First => ref _ring[_head];

    private void DropFirst()
    {
        CoveredAfter = Math.Max(CoveredAfter, First.Seq);
        EvictedLines += First.Lines;
        _held -= First.Lines;
        _bytes -= First.Payload.Length;
        First = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    public override string ToString() => $"{Epoch} {Last.ToString(CultureInfo.InvariantCulture)}";

    /// <param name="Last">The number of the entry's last line.</param>
    /// <param name="Lines">How many lines the payload holds.</param>
    /// <param name="Ticks">When it was said (UTC ticks).</param>
    /// <param name="Payload">The lines, as members received them.</param>
    /// <param name="Seq">With shared offsets, the room stream's sequence of the message that brought them; 0 otherwise.</param>
    private readonly record struct Entry(long Last, int Lines, long Ticks, ReadOnlyMemory<byte> Payload, long Seq);
}
