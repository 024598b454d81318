using System.Globalization;
using System.Text;

namespace Shout.Rooms.Bus;

/// <summary>
/// Who is in which room on the other instances, as the presence bucket (<see cref="PresenceKeys"/>)
/// says, kept in memory so <c>/who</c> answers at once. An instance counts while its heartbeat key
/// was heard within <see cref="Beats"/> of its own heartbeats (measured on this machine's clock when
/// the update arrived, so clocks need not agree); a crashed instance's members go with it. Every key
/// and value is checked (a stranger on the bus can write junk) and what is held is bounded.
/// Not thread-safe: the bus calls it under one lock.
/// </summary>
internal sealed class PresenceView(Guid self, TimeSpan ownHeartbeat)
{
    /// <summary>Heartbeats an instance may miss before its members are gone.</summary>
    public const int Beats = 3;

    /// <summary>Most instances held (a stranger inventing instances cannot make it endless).</summary>
    public const int MaxInstances = 1024;

    /// <summary>Most bytes of names held over all instances and rooms.</summary>
    public const long MaxBytes = 32L * 1024 * 1024;

    private readonly Dictionary<Guid, Instance> _instances = [];
    private long _bytes;

    /// <summary>Instances held now (live or not yet forgotten).</summary>
    public int Instances => _instances.Count;

    /// <summary>Bytes of names held now.</summary>
    public long Bytes => _bytes;

    /// <summary>
    /// Takes one update of the bucket: a put (<paramref name="deleted"/> false) or a delete/purge of
    /// <paramref name="key"/>. <see cref="BusRefusal.None"/> when taken (or ignored: this instance's own
    /// keys), otherwise why it was refused; a refused update changes nothing.
    /// </summary>
    public BusRefusal Take(string key, ReadOnlySpan<byte> value, bool deleted, DateTimeOffset now)
    {
        if (!PresenceKeys.TryParse(key, out var instance, out var room))
        {
            return BusRefusal.Name;
        }

        if (instance == self)
        {
            return BusRefusal.None;
        }

        if (deleted)
        {
            if (_instances.TryGetValue(instance, out var gone))
            {
                if (room is null)
                {
                    Forget(instance);
                }
                else if (gone.Rooms.Remove(room, out var names))
                {
                    _bytes -= Size(names);
                }
            }

            return BusRefusal.None;
        }

        if (room is null)
        {
            if (!PresenceKeys.TryParseHeartbeat(value, out var every))
            {
                return BusRefusal.Shape;
            }

            var known = Find(instance, now);
            if (known is null)
            {
                return BusRefusal.Size;
            }

            known.Heartbeat = every;
            known.Seen = now;
            return BusRefusal.None;
        }

        var refusal = PresenceKeys.ParseNames(value, out var nicks);
        if (refusal != BusRefusal.None)
        {
            return refusal;
        }

        var holder = Find(instance, now);
        var before = holder is not null && holder.Rooms.TryGetValue(room, out var old) ? Size(old) : 0;
        if (holder is null || _bytes - before + Size(nicks) > MaxBytes)
        {
            return BusRefusal.Size;
        }

        _bytes += Size(nicks) - before;
        holder.Rooms[room] = nicks;
        return BusRefusal.None;
    }

    /// <summary>The names in <paramref name="room"/> on every other instance alive at <paramref name="now"/>.</summary>
    public List<string> Nicks(string room, DateTimeOffset now)
    {
        var nicks = new List<string>();
        foreach (var instance in _instances.Values)
        {
            if (Alive(instance, now) && instance.Rooms.TryGetValue(room, out var names))
            {
                nicks.AddRange(names);
            }
        }

        return nicks;
    }

    /// <summary>
    /// Forgets the instances not heard within <see cref="Beats"/> heartbeats (a room key whose
    /// instance never beat counts from when it was first seen, by this instance's heartbeat) and gives
    /// them, so their keys can be removed from the bucket.
    /// </summary>
    public List<(Guid Instance, string[] Rooms)> ForgetDead(DateTimeOffset now)
    {
        var dead = _instances.Where(i => Dead(i.Value, now)).Select(i => (i.Key, i.Value.Rooms.Keys.ToArray())).ToList();
        foreach (var (instance, _) in dead)
        {
            Forget(instance);
        }

        return dead;
    }

    /// <summary>Listed: its heartbeat heard within <see cref="Beats"/> of its heartbeats.</summary>
    private static bool Alive(Instance instance, DateTimeOffset now) =>
        instance.Heartbeat is { } every && now - instance.Seen <= every * Beats;

    /// <summary>Gone: not alive, or never beat within <see cref="Beats"/> of this instance's heartbeats of being first seen.</summary>
    private bool Dead(Instance instance, DateTimeOffset now) =>
        instance.Heartbeat is null ? now - instance.Seen > ownHeartbeat * Beats : !Alive(instance, now);

    private Instance? Find(Guid instance, DateTimeOffset now)
    {
        if (_instances.TryGetValue(instance, out var known))
        {
            return known;
        }

        if (_instances.Count >= MaxInstances)
        {
            ForgetDead(now);
            if (_instances.Count >= MaxInstances)
            {
                return null;
            }
        }

        known = new Instance { Seen = now };
        _instances[instance] = known;
        return known;
    }

    private void Forget(Guid instance)
    {
        if (_instances.Remove(instance, out var gone))
        {
            _bytes -= gone.Rooms.Values.Sum(Size);
        }
    }

    private static long Size(string[] names) => names.Sum(n => (long)n.Length + 1) + 64;

    private sealed class Instance
    {
        /// <summary>Its heartbeat period, as its heartbeat key says; null until one was heard.</summary>
        public TimeSpan? Heartbeat { get; set; }

        /// <summary>When its heartbeat was last heard here (or, before any, when it was first seen).</summary>
        public DateTimeOffset Seen { get; set; }

        public Dictionary<string, string[]> Rooms { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>
/// The presence bucket's keys and values: <c>i.INSTANCE</c> (its heartbeat period in milliseconds,
/// put every heartbeat) and <c>r.INSTANCE.ROOM</c> (its members' names in ROOM, one per line),
/// INSTANCE the instance id as 32 hex digits. Room names are valid key tokens (<see cref="RoomNames"/>). Pure.
/// </summary>
internal static class PresenceKeys
{
    /// <summary>Most bytes of one room's names from one instance (beyond it the names are cut, so a huge room stays listable).</summary>
    public const int MaxValue = 256 * 1024;

    /// <summary>Shortest and longest heartbeat an instance may announce.</summary>
    public static readonly TimeSpan MinHeartbeat = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc cref="MinHeartbeat"/>
    public static readonly TimeSpan MaxHeartbeat = TimeSpan.FromMinutes(1);

    public static string Heartbeat(Guid instance) => "i." + instance.ToString("N");

    public static string Room(Guid instance, string room) => "r." + instance.ToString("N") + "." + room;

    public static byte[] HeartbeatValue(TimeSpan every) =>
        Encoding.ASCII.GetBytes(((long)every.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));

    /// <summary>The names, one per line, cut at <see cref="MaxValue"/> bytes.</summary>
    public static byte[] NamesValue(IEnumerable<string> nicks)
    {
        var text = new StringBuilder();
        foreach (var nick in nicks)
        {
            if (text.Length + nick.Length + 1 > MaxValue)
            {
                break;
            }

            text.Append(nick).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>True for <c>i.INSTANCE</c> (<paramref name="room"/> null) and <c>r.INSTANCE.ROOM</c> with a valid room.</summary>
    public static bool TryParse(string key, out Guid instance, out string? room)
    {
        instance = default;
        room = null;
        var parts = key.Split('.');
        if (parts is ["i", var id] && IsId(id, out instance))
        {
            return true;
        }

        if (parts is ["r", var of, var name] && IsId(of, out instance) && RoomNames.IsValid(name))
        {
            room = name;
            return true;
        }

        return false;
    }

    /// <summary>A heartbeat value: milliseconds, within <see cref="MinHeartbeat"/>..<see cref="MaxHeartbeat"/>.</summary>
    public static bool TryParseHeartbeat(ReadOnlySpan<byte> value, out TimeSpan every)
    {
        every = default;
        if (value.Length is 0 or > 12 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return false;
        }

        every = TimeSpan.FromMilliseconds(ms);
        return every >= MinHeartbeat && every <= MaxHeartbeat;
    }

    /// <summary>Names one per line, each valid, at most <see cref="MaxValue"/> bytes; empty is none.</summary>
    public static BusRefusal ParseNames(ReadOnlySpan<byte> value, out string[] nicks)
    {
        nicks = [];
        if (value.Length > MaxValue)
        {
            return BusRefusal.Size;
        }

        if (value.IsEmpty)
        {
            return BusRefusal.None;
        }

        if (!IsNamesText(value))
        {
            return BusRefusal.Text;
        }

        var names = Encoding.ASCII.GetString(value[..^1]).Split('\n');
        foreach (var name in names)
        {
            if (!RoomNames.IsValid(name))
            {
                return BusRefusal.Name;
            }
        }

        nicks = names;
        return BusRefusal.None;
    }

    private static bool IsNamesText(ReadOnlySpan<byte> value)
    {
        if (value[^1] != '\n')
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b != '\n' && (b < 0x20 || b > 0x7E))
            {
                return false;
            }
        }

        return true;
    }

    // Lowercase only, as instances write it: one instance, one key.
    private static bool IsId(string text, out Guid instance)
    {
        instance = default;
        return text.Length == 32 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f') && Guid.TryParseExact(text, "N", out instance);
    }
}
