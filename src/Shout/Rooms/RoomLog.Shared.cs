using System.Buffers;
using Shout.Protocols;

namespace Shout.Rooms;

/// <summary>
/// Shared offsets (<see cref="ShoutBusOptions.SharedOffsets"/>): every instance appends a room's
/// lines in the room stream's order, each entry with the stream sequence of its message, so a place
/// in the room is the same on every instance: "the first N lines of the room after stream sequence
/// A" (<see cref="SharedPlace"/>). A position names such an anchor A, always a message boundary, and
/// the count N of lines after it.
/// </summary>
internal sealed partial class RoomLog
{
    /// <summary>Every line of the room in the stream after this sequence is in the log, or was and is counted in <see cref="EvictedLines"/>.</summary>
    public long CoveredAfter { get; private set; }

    /// <summary>The stream sequence of the last entry appended (<see cref="CoveredAfter"/> before the first).</summary>
    public long LastSeq { get; private set; }

    /// <summary>Lines of entries forgotten so far (those with sequences up to <see cref="CoveredAfter"/>).</summary>
    public long EvictedLines { get; private set; }

    /// <summary>When its members were last given a fresh position (UTC ticks; 0: never).</summary>
    public long Renewed { get; set; }

    /// <summary>Forgets the entries said before <paramref name="oldest"/> (UTC ticks). Under <see cref="Gate"/>.</summary>
    public void Prune(long oldest)
    {
        while (_count > 0 && First.Ticks < oldest)
        {
            DropFirst();
        }
    }

    /// <summary>
    /// Gives a member its place in the room, writing each line given as <c>* [N] LINE</c>.
    /// <paramref name="had"/> null: a join, the newest <paramref name="maxLines"/> lines, numbered from
    /// a new anchor (the message before the first of them). Otherwise a resume: the member has the
    /// first <paramref name="had"/> lines after stream sequence <paramref name="anchor"/>, of which
    /// <paramref name="before"/> are older than this log holds (the caller counted them in the
    /// stream, up to <see cref="CoveredAfter"/>); it gets the lines after those, at most the newest
    /// <paramref name="maxLines"/>, numbered on from the same anchor, the rest counted lost. False
    /// (nothing written) when the room has fewer lines after the anchor than <paramref name="had"/>.
    /// Under <see cref="Gate"/>, after <see cref="Prune"/>.
    /// </summary>
    public bool TryWriteShared(IBufferWriter<byte> output, long anchor, long before, long? had, int maxLines, out SharedPlace place)
    {
        // The entries after the anchor (all of them for a join).
        var firstAfter = 0;
        while (had is not null && firstAfter < _count && At(firstAfter).Seq <= anchor)
        {
            firstAfter++;
        }

        long held = 0;
        for (var i = firstAfter; i < _count; i++)
        {
            held += At(i).Lines;
        }

        if (had is not { } count)
        {
            // A join: the newest lines; the new anchor is the message before the entry of the first of them.
            var given = Math.Min(held, maxLines);
            if (given == 0)
            {
                place = new SharedPlace(LastSeq, 0, 0, 0);
                return true;
            }

            var skip = held - given;
            var at = 0;
            while (skip >= At(at).Lines)
            {
                skip -= At(at).Lines;
                at++;
            }

            var lines = Write(output, at, firstNumber: 1, from: skip + 1, out var last);
            place = new SharedPlace(at > 0 ? At(at - 1).Seq : CoveredAfter, last, 0, lines);
            return true;
        }

        var total = before + held;
        if (count > total)
        {
            place = default;
            return false;
        }

        var missed = total - count;
        var written = Write(output, firstAfter, firstNumber: before + 1, from: total - Math.Min(missed, maxLines) + 1, out _);
        place = new SharedPlace(anchor, total, missed - written, written);
        return true;
    }

    /// <summary>Writes the lines of the entries from <paramref name="entry"/> on, numbered from <paramref name="firstNumber"/>, those numbered <paramref name="from"/> or more.</summary>
    private int Write(IBufferWriter<byte> output, int entry, long firstNumber, long from, out long last)
    {
        var number = firstNumber - 1;
        var written = 0;
        for (var i = entry; i < _count; i++)
        {
            var rest = At(i).Payload;
            while (!rest.IsEmpty)
            {
                var line = LineText.Next(ref rest);
                if (++number >= from)
                {
                    RoomLines.WriteHistory(output, number, line.Span);
                    written++;
                }
            }
        }

        last = number;
        return written;
    }

    private ref Entry At(int index) => ref _ring[(_head + index) % _ring.Length];
}

/// <summary>Where a member stands after <see cref="RoomLog.TryWriteShared"/>.</summary>
/// <param name="Anchor">The stream sequence its count starts after.</param>
/// <param name="Count">The lines after the anchor it has now (received, or told they were lost).</param>
/// <param name="Lost">Lines it missed that are no longer held.</param>
/// <param name="Written">History lines written.</param>
internal readonly record struct SharedPlace(long Anchor, long Count, long Lost, int Written);
