using System.Collections.Concurrent;
using System.Globalization;
using Shout.Rooms.Bus;

namespace Shout.Rooms;

/// <summary>
/// Who is in which room on this instance, and delivery to them. Membership changes (enter, leave,
/// rename, move) take one lock; delivery reads each room's member array without one (the array is
/// replaced, never changed), so the lines of one read fan out as one shared payload with one queue
/// write per member, counted once for the room, and a member that does not read costs the sender
/// nothing. Every line and notice of a local member is delivered
/// locally and published once on the bus for the other instances, numbered in the member's sequence.
/// Thread-safe.
/// </summary>
internal sealed class RoomHub : IRoomBusListener
{
    private static readonly RoomMember[] Nobody = [];

    private readonly ConcurrentDictionary<string, RoomMember[]> _rooms = new(StringComparer.Ordinal);

    // Names are ASCII (RoomNames), so ignoring case here is the same as comparing them uppercased:
    // "bob" cannot sit next to "BOB", whose lines read the same once the room uppercases them.
    private readonly Dictionary<string, RoomMember> _nicks = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _membership = new();
    private readonly IRoomBus _bus;
    private readonly RoomMetrics _metrics;
    private readonly RoomHistory _history;

    // With shared offsets: the local members whose lines are on their way through the bus, by id.
    private readonly ConcurrentDictionary<long, RoomMember> _speakers = new();
    private long _lastId;

    /// <param name="bus">The other instances.</param>
    /// <param name="metrics">Where deliveries are counted.</param>
    /// <param name="history">The rooms' recent lines; none (history off) when null.</param>
    public RoomHub(IRoomBus bus, RoomMetrics metrics, RoomHistory? history = null)
    {
        _bus = bus;
        _metrics = metrics;
        _history = history ?? new RoomHistory(new ShoutRoomOptions { History = 0 }, TimeProvider.System);
        bus.Attach(this);
    }

    /// <summary>The rooms' recent lines on this instance.</summary>
    public RoomHistory History => _history;

    public RoomMetrics Metrics => _metrics;

    /// <summary>
    /// Shared offsets (<see cref="ShoutBusOptions.SharedOffsets"/>): members' lines, this instance's
    /// own too, are delivered as the bus brings them in the room stream's order, and positions name
    /// places in that order, the same on every instance.
    /// </summary>
    public bool Shared => _bus.Shared && _history.Enabled;

    /// <summary>A new member id, unique in this instance.</summary>
    public long NextId() => Interlocked.Increment(ref _lastId);

    /// <summary>
    /// Puts a new member in <paramref name="room"/> (default: the default room) under a free guest
    /// name; greets it (unless the transport greets it later, as UDP does after its <c>OK room</c>);
    /// tells the room.
    /// </summary>
    public void Enter(RoomMember member, string? room = null, bool greet = true)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_membership)
        {
            member.Room = room ?? member.Room;
            var nick = member.Nick;
            for (var n = 2; _nicks.ContainsKey(nick); n++)
            {
                nick = member.Nick + "-" + n.ToString(CultureInfo.InvariantCulture);
            }

            member.Nick = nick;
            _nicks[nick] = member;
            if (greet)
            {
                // First in its queue, before anything the room says once it is in.
                member.Deliver(RoomLines.Greeting(nick, member.Room));
            }

            // A UDP member is greeted later (after its OK room): it gets history with /join or /resume only.
            AddWithHistory(member, member.Room, default, greet ? Catching.History : Catching.Nothing, 0);
        }

        _metrics.MemberJoined();
        Announce(member, member.Room, RoomLines.Joined(member.Nick, member.Room), BusKind.Line, BusShape.Joined, member.Nick);
    }

    /// <summary>Takes the member out of its room; tells the room. Safe to call twice.</summary>
    public void Leave(RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_membership)
        {
            if (!_nicks.TryGetValue(member.Nick, out var holder) || !ReferenceEquals(holder, member))
            {
                return;
            }

            _nicks.Remove(member.Nick);
            Remove(member.Room, member);
        }

        _speakers.TryRemove(member.Id, out _);
        _metrics.MemberLeft();
        Announce(member, member.Room, RoomLines.Left(member.Nick, member.Room), BusKind.Final, BusShape.Left, member.Nick);
    }

    /// <summary>
    /// Renames the member; false when another member of this instance has the name in any case
    /// (a member may change the case of its own name).
    /// </summary>
    public bool Rename(RoomMember member, string nick)
    {
        ArgumentNullException.ThrowIfNull(member);
        string before;
        lock (_membership)
        {
            before = member.Nick;
            if (before == nick)
            {
                return true;
            }

            if (_nicks.TryGetValue(nick, out var holder) && !ReferenceEquals(holder, member))
            {
                return false;
            }

            _nicks.Remove(before);
            _nicks[nick] = member;
            member.Nick = nick;
        }

        Announce(member, member.Room, RoomLines.Renamed(before, nick), BusKind.Line, BusShape.Renamed, nick, before);
        return true;
    }

    /// <summary>
    /// Moves the member to another room: a leave notice in the old one, a join notice in the new (the
    /// room it is in: no move, no notice, but its history and position again).
    /// <paramref name="first"/> (its <c>OK room</c>) goes to the member first, then the new room's
    /// history and position, so no line of the room comes before them or is missed after them.
    /// </summary>
    public void Move(RoomMember member, string room, ReadOnlyMemory<byte> first = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        string before;
        lock (_membership)
        {
            before = member.Room;
            if (before == room)
            {
                // Joining the room it is in moves nothing and tells no one, but gives the history and
                // position again: a client whose resume was refused gets its room back this way.
                AddWithHistory(member, room, first, Catching.History, 0, add: false);
                return;
            }

            Remove(before, member);
            member.Room = room;
            AddWithHistory(member, room, first, Catching.History, 0);
        }

        Announce(member, before, RoomLines.Left(member.Nick, before), BusKind.Line, BusShape.Left, member.Nick);
        Announce(member, room, RoomLines.Joined(member.Nick, room), BusKind.Line, BusShape.Joined, member.Nick);
    }

    /// <summary>
    /// <c>/resume ROOM OFFSET EPOCH</c>: puts the member in <paramref name="room"/> (moving it, with
    /// notices, if it is elsewhere) and gives it <c>OK resume ROOM</c>, then the room's lines numbered
    /// after <paramref name="offset"/> (a <c>* [lost N]</c> line first for those no longer held), then
    /// its position. Null when done; otherwise the one <c>ERR</c> line, and nothing changed.
    /// </summary>
    public byte[]? Resume(RoomMember member, string room, long offset, string epoch)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!_history.Enabled)
        {
            return RoomLines.Error("resume: this server keeps no history (--room-history 0)");
        }

        var log = _history.Find(room);
        if (log is null)
        {
            return RoomLines.Error($"resume: no history of room {room} here; /join {room}");
        }

        if (!string.Equals(epoch, log.Epoch, StringComparison.Ordinal))
        {
            return RoomLines.Error($"resume: epoch {epoch} is not the one of {room} here; /join {room}");
        }

        if (offset > log.Last)
        {
            return RoomLines.Error(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"resume: {room} has no line {offset} (its last is {log.Last})"));
        }

        string before;
        lock (_membership)
        {
            before = member.Room;
            if (before != room)
            {
                Remove(before, member);
                member.Room = room;
            }

            AddWithHistory(member, room, RoomLines.Resumed(room), Catching.Resume, offset, add: before != room);
        }

        if (before != room)
        {
            Announce(member, before, RoomLines.Left(member.Nick, before), BusKind.Line, BusShape.Left, member.Nick);
            Announce(member, room, RoomLines.Joined(member.Nick, room), BusKind.Line, BusShape.Joined, member.Nick);
        }

        return null;
    }

    /// <summary>
    /// <see cref="Resume"/>, and with shared offsets the same on every instance: the epoch names a
    /// place in the room stream (<see cref="SharedPositions"/>), the offset the lines the member has
    /// after it. Lines older than the room's log here are counted in the stream.
    /// </summary>
    public async ValueTask<byte[]?> ResumeAsync(RoomMember member, string room, long offset, string epoch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!Shared)
        {
            return Resume(member, room, offset, epoch);
        }

        if (!SharedPositions.TryAnchor(epoch, _bus.StreamId, out var anchor))
        {
            return RoomLines.Error($"resume: epoch {epoch} is not a place of {room} in this deployment's room stream; /join {room}");
        }

        // The member may come from an instance a little ahead of this one: a place or a count this
        // instance has not reached yet is waited for, a while.
        var clock = _history.Clock;
        var patience = clock.GetTimestamp();
        var outcome = SharedOutcome.Count;
        string previous = member.Room;
        while (outcome != SharedOutcome.Done)
        {
            if (outcome != SharedOutcome.Count || anchor > _bus.LastSeq)
            {
                if (clock.GetElapsedTime(patience) >= ResumeCatchUp)
                {
                    return anchor > _bus.LastSeq
                        ? RoomLines.Error($"resume: epoch {epoch} is not a place of {room} in this deployment's room stream; /join {room}")
                        : RoomLines.Error(string.Create(CultureInfo.InvariantCulture, $"resume: {room} has not had {offset} lines after that position; /join {room}"));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellationToken);
                if (anchor > _bus.LastSeq)
                {
                    continue;
                }
            }

            var log = _history.Get(room, _bus.LastSeq);
            long covered, evicted;
            lock (log.Gate)
            {
                log.Prune(_history.Oldest);
                (covered, evicted) = (log.CoveredAfter, log.EvictedLines);
            }

            long before = 0;
            if (anchor < covered)
            {
                if (await _bus.CountLinesAsync(room, anchor, covered, cancellationToken) is not { } count)
                {
                    return RoomLines.Error($"resume: the room stream no longer holds {room}'s lines after that position; /join {room}");
                }

                before = count;
            }

            lock (_membership)
            {
                previous = member.Room;
                outcome = AddShared(member, room, RoomLines.Resumed(room), anchor, before, offset, previous, (covered, evicted));
            }
        }

        if (previous != room)
        {
            Announce(member, previous, RoomLines.Left(member.Nick, previous), BusKind.Line, BusShape.Left, member.Nick);
            Announce(member, room, RoomLines.Joined(member.Nick, room), BusKind.Line, BusShape.Joined, member.Nick);
        }

        return null;
    }

    /// <summary>How long a shared resume waits for this instance to reach the place or the count the member names.</summary>
    internal static readonly TimeSpan ResumeCatchUp = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Answers the member and says its lines to the room in one step under the room's history lock,
    /// so the member counts its own lines where the history numbers them. False (nothing done) when
    /// history is off or the answer cannot go in at once: then the caller answers, waiting, and
    /// <see cref="Say"/>s.
    /// </summary>
    public bool TryAnswerAndSay(RoomMember member, ReadOnlyMemory<byte> own, int ownLines, ReadOnlyMemory<byte> said, int lines)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!_history.Enabled)
        {
            return false;
        }

        if (Shared)
        {
            SayShared(member, own, ownLines, said, lines);
            return true;
        }

        var room = member.Room;
        var log = _history.Get(room);
        lock (log.Gate)
        {
            if (!member.TryAnswerNow(own, ownLines))
            {
                return false;
            }

            _history.Append(log, said, lines, _history.Now);
            FanOut(member, room, said, lines);
        }

        Publish(member, room, BusKind.Line, BusShape.Said, member.Nick, "", said, lines);
        return true;
    }

    /// <summary>
    /// Delivers a member's <paramref name="lines"/> lines, already formatted for the others
    /// (<c>NICK: TEXT\n</c> each, <see cref="RoomLines.Said"/>), to the rest of its room, here and elsewhere.
    /// </summary>
    public void Say(RoomMember member, ReadOnlyMemory<byte> said, int lines)
    {
        ArgumentNullException.ThrowIfNull(member);
        var room = member.Room;
        if (!_history.Enabled)
        {
            Announce(member, room, said, BusKind.Line, BusShape.Said, member.Nick, lines: lines);
            return;
        }

        var log = _history.Get(room);
        lock (log.Gate)
        {
            _history.Append(log, said, lines, _history.Now);
            FanOut(member, room, said, lines);
        }

        Publish(member, room, BusKind.Line, BusShape.Said, member.Nick, "", said, lines);
    }

    /// <summary>Everyone in the room, on every instance that answers in time, sorted.</summary>
    public async Task<IReadOnlyList<string>> WhoAsync(string room, CancellationToken cancellationToken)
    {
        var remote = await _bus.RemoteNicksAsync(room, cancellationToken);
        return [.. LocalNicks(room).Concat(remote).Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> LocalNicks(string room) =>
        _rooms.TryGetValue(room, out var members) ? [.. members.Select(m => m.Nick)] : [];

    public IReadOnlyCollection<string> Rooms() => [.. _rooms.Keys];

    public void OnRemote(string room, ReadOnlyMemory<byte> payload, int lines, bool said)
    {
        if (!said || !_history.Enabled)
        {
            FanOut(null, room, payload, lines);
            return;
        }

        // Also for a room without members here: one may join later and get its history.
        var log = _history.Get(room);
        lock (log.Gate)
        {
            _history.Append(log, payload, lines, _history.Now);
            FanOut(null, room, payload, lines);
        }
    }

    public void OnShared(string room, ReadOnlyMemory<byte> payload, int lines, long seq, DateTimeOffset said, long? localSender, long senderSequence)
    {
        if (!_history.Enabled)
        {
            return;
        }

        // Also for a room without members here: one may join or resume later.
        var sender = localSender is { } id && _speakers.TryGetValue(id, out var speaker) ? speaker : null;
        var log = _history.Get(room, seq - 1);
        lock (log.Gate)
        {
            var now = _history.Now;
            _history.Append(log, payload, lines, Math.Min(said.UtcTicks, now), seq);
            FanOut(sender, room, payload, lines);
            if (sender is not null)
            {
                // Its own answers, where the room's order has its lines.
                _metrics.Delivered(sender.ReleaseOwn(senderSequence));
            }

            if (now - log.Renewed >= _history.RenewEvery)
            {
                // Now and then every member gets a fresh place (right after this message, nothing
                // after it yet), so a position never grows older than the stream keeps: a member
                // connected for hours can still resume anywhere, and what a resume counts stays short.
                log.Renewed = now;
                var position = RoomLines.Position(room, 0, SharedPositions.Epoch(_bus.StreamId, seq));
                var given = 0L;
                foreach (var member in Members(room))
                {
                    given += member.Deliver(position);
                }

                _metrics.Delivered(given);
            }
        }
    }

    public void OnHistory(string room, ReadOnlyMemory<byte> payload, int lines, DateTimeOffset said)
    {
        if (!_history.Enabled)
        {
            return;
        }

        var log = _history.Get(room);
        lock (log.Gate)
        {
            _history.Append(log, payload, lines, Math.Min(said.UtcTicks, _history.Now));
        }
    }

    /// <summary>
    /// Shared offsets: the member's answer waits for its lines to come back through the bus
    /// (<see cref="OnShared"/>), which delivers both, here and on every instance, in the room's order.
    /// </summary>
    private void SayShared(RoomMember member, ReadOnlyMemory<byte> own, int ownLines, ReadOnlyMemory<byte> said, int lines)
    {
        var sequence = member.NextSequence(lines);
        _speakers[member.Id] = member;
        member.PendOwn(sequence, own, ownLines);
        if (!_bus.Publish(new BusMessage(_bus.Instance, member.Id, sequence, BusKind.Line, BusShape.Said, member.Room, member.Nick, "", said)))
        {
            // Dropped (the publishing queue full: counted lost): the member is answered now, so it does not wait for nothing.
            _metrics.Delivered(member.ReleaseOwn(sequence));
        }
    }

    private RoomMember[] Members(string room) => _rooms.TryGetValue(room, out var members) ? members : Nobody;

    private void Announce(RoomMember sender, string room, ReadOnlyMemory<byte> payload, BusKind kind, BusShape shape, string nick, string other = "",
        int lines = 1)
    {
        FanOut(sender, room, payload, lines);
        Publish(sender, room, kind, shape, nick, other, payload, lines);

        // Every join, leave and rename is announced: the presence the other instances read follows.
        _bus.MembersChanged(room);
    }

    /// <summary>To every member of the room here but <paramref name="sender"/>, counted once for the room.</summary>
    private void FanOut(RoomMember? sender, string room, ReadOnlyMemory<byte> payload, int lines)
    {
        var delivered = 0L;
        foreach (var member in Members(room))
        {
            if (!ReferenceEquals(member, sender))
            {
                delivered += member.Deliver(payload, lines);
            }
        }

        _metrics.Delivered(delivered);
    }

    private void Publish(RoomMember sender, string room, BusKind kind, BusShape shape, string nick, string other, ReadOnlyMemory<byte> payload,
        int lines)
    {
        // Notices travel as names: the receiver writes the line itself, so the bus never carries a line without a name in front.
        _bus.Publish(new BusMessage(_bus.Instance, sender.Id, sender.NextSequence(lines), kind, shape, room, nick, other,
            shape == BusShape.Said ? payload : default));
    }

    /// <summary>What a member entering a room is given of its lines.</summary>
    private enum Catching
    {
        /// <summary>Nothing (a UDP member confirming its address; history off).</summary>
        Nothing,

        /// <summary>The last lines, then its position.</summary>
        History,

        /// <summary>The lines after an offset (and how many are lost), then its position.</summary>
        Resume,
    }

    /// <summary>
    /// Under the membership lock: <paramref name="first"/>, the room's lines (<paramref name="catching"/>)
    /// and position, and the member in the room's members, all under the room's history lock, so
    /// every line of the room is either in what it was given or delivered to it after.
    /// </summary>
    private void AddWithHistory(RoomMember member, string room, ReadOnlyMemory<byte> first, Catching catching, long after, bool add = true)
    {
        if (catching == Catching.Nothing || !_history.Enabled)
        {
            Deliver(member, first);
            if (add)
            {
                Add(room, member);
            }

            return;
        }

        if (Shared)
        {
            // A join (a shared resume is ResumeAsync's): the newest lines, numbered from the message before them.
            AddShared(member, room, first, anchor: -1, before: 0, had: null, from: add ? null : room);
            return;
        }

        var log = _history.Get(room);
        lock (log.Gate)
        {
            Deliver(member, first);
            var output = new System.Buffers.ArrayBufferWriter<byte>(256);
            var from = catching == Catching.Resume ? after : Math.Max(0, log.Last - _history.Lines);
            var lines = log.Write(output, from, _history.Lines, _history.Oldest, out var lost);
            if (catching == Catching.Resume && lost > 0)
            {
                Deliver(member, RoomLines.Lost(room, lost));
            }

            if (lines > 0)
            {
                _metrics.Delivered(member.Deliver(output.WrittenMemory, lines));
            }

            Deliver(member, RoomLines.Position(room, log.Last, log.Epoch));
            if (add)
            {
                Add(room, member);
            }
        }
    }

    /// <summary>
    /// Under the membership lock, shared offsets: <paramref name="first"/>, the room's lines after
    /// the member's place (<see cref="RoomLog.TryWriteShared"/>: a join when <paramref name="had"/> is
    /// null), a <c>* [lost N]</c> line first when some are no longer held, its new position, and the
    /// member moved into the room (from <paramref name="from"/>, when given and not the room), all
    /// under the room's history lock, so every line of the room is either given here or delivered
    /// after. <paramref name="counted"/>: the log's <see cref="RoomLog.CoveredAfter"/> and
    /// <see cref="RoomLog.EvictedLines"/> when <paramref name="before"/> was counted in the stream.
    /// </summary>
    private SharedOutcome AddShared(RoomMember member, string room, ReadOnlyMemory<byte> first, long anchor, long before, long? had,
        string? from, (long Covered, long Evicted)? counted = null)
    {
        var log = _history.Get(room, _bus.LastSeq);
        lock (log.Gate)
        {
            log.Prune(_history.Oldest);
            if (counted is { } c && anchor >= c.Covered && anchor < log.CoveredAfter)
            {
                // Lines after the anchor were forgotten since it was checked: to be counted in the stream.
                return SharedOutcome.Count;
            }

            if (counted is { } d && anchor < d.Covered)
            {
                // Lines forgotten since the stream was counted lie between the two: after the anchor.
                before += log.EvictedLines - d.Evicted;
            }

            var output = new System.Buffers.ArrayBufferWriter<byte>(256);
            if (!log.TryWriteShared(output, anchor, before, had, _history.Lines, out var place))
            {
                return SharedOutcome.Beyond;
            }

            if (from is not null && from != room)
            {
                Remove(from, member);
                member.Room = room;
            }

            Deliver(member, first);
            if (place.Lost > 0)
            {
                Deliver(member, RoomLines.Lost(room, place.Lost));
            }

            if (place.Written > 0)
            {
                _metrics.Delivered(member.Deliver(output.WrittenMemory, place.Written));
            }

            // Nothing after the anchor yet: every line of the room up to the last message the bus
            // delivered is in the log (it was appended under this lock before), so the place can be
            // that message, which keeps an idle room's positions as young as the stream.
            var at = place.Count == 0 ? Math.Max(place.Anchor, _bus.LastSeq) : place.Anchor;
            Deliver(member, RoomLines.Position(room, place.Count, SharedPositions.Epoch(_bus.StreamId, at)));
            if (from is null || from != room)
            {
                Add(room, member);
            }
        }

        return SharedOutcome.Done;
    }

    private enum SharedOutcome
    {
        Done,

        /// <summary>The member has more lines after the anchor than the room: nothing done.</summary>
        Beyond,

        /// <summary>The log no longer reaches back to the anchor: count in the stream, then again.</summary>
        Count,
    }

    private void Deliver(RoomMember member, ReadOnlyMemory<byte> line)
    {
        if (!line.IsEmpty)
        {
            _metrics.Delivered(member.Deliver(line));
        }
    }

    /// <summary>Under the membership lock.</summary>
    private void Add(string room, RoomMember member)
    {
        var members = Members(room);
        _rooms[room] = [.. members, member];
        if (members.Length == 0)
        {
            _metrics.RoomOpened();
        }
    }

    /// <summary>Under the membership lock.</summary>
    private void Remove(string room, RoomMember member)
    {
        var members = Members(room);
        var left = Array.FindAll(members, m => !ReferenceEquals(m, member));
        if (left.Length == members.Length)
        {
            return;
        }

        if (left.Length == 0)
        {
            _rooms.TryRemove(room, out _);
            _metrics.RoomClosed();
        }
        else
        {
            _rooms[room] = left;
        }
    }
}
