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
    private long _lastId;

    public RoomHub(IRoomBus bus, RoomMetrics metrics)
    {
        _bus = bus;
        _metrics = metrics;
        bus.Attach(this);
    }

    public RoomMetrics Metrics => _metrics;

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

            Add(member.Room, member);
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

    /// <summary>Moves the member to another room: a leave notice in the old one, a join notice in the new.</summary>
    public void Move(RoomMember member, string room)
    {
        ArgumentNullException.ThrowIfNull(member);
        string before;
        lock (_membership)
        {
            before = member.Room;
            if (before == room)
            {
                return;
            }

            Remove(before, member);
            member.Room = room;
            Add(room, member);
        }

        Announce(member, before, RoomLines.Left(member.Nick, before), BusKind.Line, BusShape.Left, member.Nick);
        Announce(member, room, RoomLines.Joined(member.Nick, room), BusKind.Line, BusShape.Joined, member.Nick);
    }

    /// <summary>
    /// Delivers a member's <paramref name="lines"/> lines, already formatted for the others
    /// (<c>NICK: TEXT\n</c> each, <see cref="RoomLines.Said"/>), to the rest of its room, here and elsewhere.
    /// </summary>
    public void Say(RoomMember member, ReadOnlyMemory<byte> said, int lines)
    {
        ArgumentNullException.ThrowIfNull(member);
        Announce(member, member.Room, said, BusKind.Line, BusShape.Said, member.Nick, lines: lines);
    }

    /// <summary>Everyone in the room, on every instance that answers in time, sorted.</summary>
    public async Task<IReadOnlyList<string>> WhoAsync(string room, CancellationToken cancellationToken)
    {
        var remote = await _bus.RemoteNicksAsync(room, cancellationToken);
        return [.. LocalNicks(room).Concat(remote).Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> LocalNicks(string room) =>
        _rooms.TryGetValue(room, out var members) ? [.. members.Select(m => m.Nick)] : [];

    public void OnRemote(string room, ReadOnlyMemory<byte> payload)
    {
        var lines = payload.Span.Count((byte)'\n');
        var delivered = 0L;
        foreach (var member in Members(room))
        {
            delivered += member.Deliver(payload, lines);
        }

        _metrics.Delivered(delivered);
    }

    private RoomMember[] Members(string room) => _rooms.TryGetValue(room, out var members) ? members : Nobody;

    private void Announce(RoomMember sender, string room, ReadOnlyMemory<byte> payload, BusKind kind, BusShape shape, string nick, string other = "",
        int lines = 1)
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

        // Notices travel as names: the receiver writes the line itself, so the bus never carries a line without a name in front.
        _bus.Publish(new BusMessage(_bus.Instance, sender.Id, sender.NextSequence(lines), kind, shape, room, nick, other,
            shape == BusShape.Said ? payload : default));
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
