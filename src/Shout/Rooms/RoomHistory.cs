using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Shout.Rooms;

/// <summary>
/// Every room's <see cref="RoomLog"/> on this instance, within the bounds of
/// <see cref="ShoutRoomOptions"/>: lines and bytes per room, age, and how many rooms are remembered
/// (the least recently active forgotten first, so invented rooms cannot grow it without end).
/// Thread-safe.
/// </summary>
internal sealed class RoomHistory(ShoutRoomOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, RoomLog> _logs = new(StringComparer.Ordinal);
    private readonly Lock _forgetting = new();

    /// <summary>False with <c>--room-history 0</c>: no log, no offsets, no <c>/resume</c>.</summary>
    public bool Enabled => options.History > 0;

    /// <summary>Lines given on joining, and the most a resume gives.</summary>
    public int Lines => options.History;

    /// <summary>Rooms whose history is held now.</summary>
    public int Rooms => _logs.Count;

    /// <summary>
    /// With shared offsets, how often an active room gives its members a fresh position (UTC ticks):
    /// a quarter of <see cref="ShoutRoomOptions.HistoryAge"/>, the time the stream keeps a place, at
    /// least a second.
    /// </summary>
    public long RenewEvery => Math.Max(TimeSpan.TicksPerSecond, options.HistoryAge.Ticks / 4);

    /// <summary>The clock of its ages.</summary>
    public TimeProvider Clock => clock;

    /// <summary>Now, in UTC ticks (the log's clock; JetStream's timestamps are UTC too).</summary>
    public long Now => clock.GetUtcNow().UtcTicks;

    /// <summary>Lines said before this (UTC ticks) are too old to give.</summary>
    public long Oldest => Now - Math.Min(options.HistoryAge.Ticks, Now);

    /// <summary>The room's log, made (and the least recently active ones forgotten, when too many) if it has none.</summary>
    /// <param name="room">The room.</param>
    /// <param name="coveredAfter">With shared offsets, for a new log: the stream sequence after which it will hold every line of the room.</param>
    public RoomLog Get(string room, long coveredAfter = 0)
    {
        if (_logs.TryGetValue(room, out var log))
        {
            return log;
        }

        log = _logs.GetOrAdd(room, static (_, made) => new RoomLog(made.Now, made.CoveredAfter), (Now, CoveredAfter: coveredAfter));
        if (_logs.Count > options.HistoryRooms)
        {
            Forget(log);
        }

        return log;
    }

    /// <summary>The room's log, if it has one.</summary>
    public RoomLog? Find(string room) => _logs.TryGetValue(room, out var log) ? log : null;

    /// <summary>
    /// Appends lines to the room's log, under its <see cref="RoomLog.Gate"/> (held by the caller).
    /// A payload in a much larger buffer is copied, so the bytes held are the bytes counted.
    /// </summary>
    public void Append(RoomLog log, ReadOnlyMemory<byte> payload, int lines, long ticks, long seq = 0)
    {
        if (MemoryMarshal.TryGetArray(payload, out var segment) && segment.Array!.Length > (2 * payload.Length) + 256)
        {
            payload = payload.ToArray();
        }

        log.Append(payload, lines, ticks, options.History, options.HistoryBytes, Oldest, seq);
    }

    /// <summary>Forgets the least recently active eighth of the logs (never <paramref name="keep"/>), at most one thread at a time.</summary>
    private void Forget(RoomLog keep)
    {
        lock (_forgetting)
        {
            var excess = _logs.Count - options.HistoryRooms;
            if (excess <= 0)
            {
                return;
            }

            var count = Math.Max(excess, options.HistoryRooms / 8);
            foreach (var (room, _) in _logs.Where(p => !ReferenceEquals(p.Value, keep)).OrderBy(p => p.Value.Touched).Take(count).ToList())
            {
                _logs.TryRemove(room, out _);
            }
        }
    }
}
