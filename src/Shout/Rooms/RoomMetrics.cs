using System.Diagnostics.Metrics;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode's instruments on the <c>Shout</c> meter: members and rooms now, lines delivered to
/// members' queues, lines dropped for slow members, members kicked, and the bus's published,
/// received, lost and duplicate lines. Plain totals behind observable instruments, like
/// <see cref="ShoutMetrics"/>: the hot path is an interlocked add. Thread-safe.
/// </summary>
internal sealed class RoomMetrics
{
    private long _members;
    private long _rooms;
    private long _deliveries;
    private long _drops;
    private long _kicks;
    private long _published;
    private long _received;
    private long _lostPublishing;
    private long _lostInTransit;
    private long _duplicates;
    private readonly long[] _refused = new long[Enum.GetValues<BusRefusal>().Length];
    private long _senders;
    private long _sendersForgotten;

    /// <summary>Creates the instruments on the <c>Shout</c> meter of <paramref name="meterFactory"/>.</summary>
    public RoomMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ShoutMetrics.MeterName);
        meter.CreateObservableUpDownCounter("shout.rooms.members", () => Members, "{member}", "Room members on this instance now");
        meter.CreateObservableUpDownCounter("shout.rooms.rooms", () => Rooms, "{room}", "Rooms with a member on this instance now");
        meter.CreateObservableCounter("shout.rooms.deliveries", () => Deliveries, "{line}", "Lines queued for members (own answers, others' lines, notices)");
        meter.CreateObservableCounter("shout.rooms.drops", () => Drops, "{line}", "Lines a slow member never got (queue full)");
        meter.CreateObservableCounter("shout.rooms.kicks", () => Kicks, "{member}", "Members closed for not reading (slow_member)");
        meter.CreateObservableCounter("shout.rooms.bus.published", () => Published, "{message}", "Lines and notices published to the other instances");
        meter.CreateObservableCounter("shout.rooms.bus.received", () => Received, "{message}", "Lines and notices received from the other instances");
        meter.CreateObservableCounter("shout.rooms.bus.lost", () => new[]
        {
            new Measurement<long>(LostPublishing, new KeyValuePair<string, object?>("where", "publish")),
            new Measurement<long>(LostInTransit, new KeyValuePair<string, object?>("where", "transit")),
        }, "{line}", "Bus losses in lines: not published while the bus was down (where=publish), missing from a sender's numbers (where=transit)");
        meter.CreateObservableCounter("shout.rooms.bus.duplicates", () => Duplicates, "{message}", "Bus messages received twice and ignored");
        meter.CreateObservableCounter("shout.rooms.bus.refused", () => Enum.GetValues<BusRefusal>().Skip(1).Select(r =>
            new Measurement<long>(Refused(r), new KeyValuePair<string, object?>("reason", r.ToString().ToLowerInvariant()))),
            "{message}", "Bus messages not delivered because no instance sends them so (reason=shape, name, text, size)");
        meter.CreateObservableUpDownCounter("shout.rooms.bus.senders", () => Senders, "{sender}", "Senders on other instances whose order is remembered now (bounded)");
        meter.CreateObservableCounter("shout.rooms.bus.senders.forgotten", () => SendersForgotten, "{sender}", "Senders forgotten to stay within the bound or for being idle");
    }

    /// <summary>Members on this instance now.</summary>
    public long Members => Interlocked.Read(ref _members);

    /// <summary>Rooms with at least one member on this instance now.</summary>
    public long Rooms => Interlocked.Read(ref _rooms);

    /// <summary>Lines queued for members since start.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>Lines dropped for slow members since start.</summary>
    public long Drops => Interlocked.Read(ref _drops);

    /// <summary>Members kicked for not reading since start.</summary>
    public long Kicks => Interlocked.Read(ref _kicks);

    /// <summary>Messages published to the bus since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Messages received from other instances since start.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Lines not published because the bus was down or behind.</summary>
    public long LostPublishing => Interlocked.Read(ref _lostPublishing);

    /// <summary>Lines of other instances' senders that never arrived (gaps in their line numbers).</summary>
    public long LostInTransit => Interlocked.Read(ref _lostInTransit);

    /// <summary>Messages received again and ignored.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Bus messages refused for <paramref name="reason"/> since start.</summary>
    public long Refused(BusRefusal reason) => Interlocked.Read(ref _refused[(int)reason]);

    /// <summary>Bus messages refused since start, for any reason.</summary>
    public long RefusedTotal => Enum.GetValues<BusRefusal>().Skip(1).Sum(Refused);

    /// <summary>Senders of other instances remembered now.</summary>
    public long Senders => Interlocked.Read(ref _senders);

    /// <summary>Senders forgotten since start (bound or idle).</summary>
    public long SendersForgotten => Interlocked.Read(ref _sendersForgotten);

    internal void BusRefused(BusRefusal reason) => Interlocked.Increment(ref _refused[(int)reason]);

    internal void BusSenders(long now, long forgotten)
    {
        Interlocked.Exchange(ref _senders, now);
        Interlocked.Exchange(ref _sendersForgotten, forgotten);
    }

    internal void MemberJoined() => Interlocked.Increment(ref _members);

    internal void MemberLeft() => Interlocked.Decrement(ref _members);

    internal void RoomOpened() => Interlocked.Increment(ref _rooms);

    internal void RoomClosed() => Interlocked.Decrement(ref _rooms);

    internal void Delivered(long lines)
    {
        if (lines > 0)
        {
            Interlocked.Add(ref _deliveries, lines);
        }
    }

    internal void Dropped(long lines) => Interlocked.Add(ref _drops, lines);

    internal void Kicked() => Interlocked.Increment(ref _kicks);

    internal void BusPublished() => Interlocked.Increment(ref _published);

    internal void BusReceived() => Interlocked.Increment(ref _received);

    internal void BusLostPublishing(long lines) => Interlocked.Add(ref _lostPublishing, lines);

    internal void BusLostInTransit(long count) => Interlocked.Add(ref _lostInTransit, count);

    internal void BusDuplicate() => Interlocked.Increment(ref _duplicates);
}
