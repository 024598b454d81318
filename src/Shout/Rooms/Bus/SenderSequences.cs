namespace Shout.Rooms.Bus;

/// <summary>
/// The receiving side of "once, in order, per sender": remembers the last sequence number seen from
/// each sender (instance + member) and says whether a message is new. Numbers count lines: a
/// message of n lines advances its sender's number by n. A number at or below the last
/// is a duplicate; a jump past last + 1 means messages were lost on the way (counted, never
/// re-requested: the bus is at most once). The first message seen from a sender sets its place
/// without counting a gap, since an instance that starts late has not missed anything it could have
/// had.
/// Bounded, because anyone on the bus can invent senders: at most <c>limit</c> senders, the one
/// heard from longest ago forgotten first, and a sender not heard from for <c>idle</c> forgotten
/// (a forgotten sender that speaks again is treated as new: no gap counted, and a copy of a message
/// older than its forgetting would be delivered again, which core NATS does not make). Thread-safe.
/// </summary>
internal sealed class SenderSequences(int limit = ShoutBusOptions.DefaultSenderLimit, TimeSpan? idle = null, TimeProvider? clock = null)
{
    private readonly Dictionary<(Guid Instance, long Sender), LinkedListNode<Entry>> _senders = [];

    // Least recently heard first: eviction and ageing both take from the front.
    private readonly LinkedList<Entry> _byAge = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly TimeSpan _idle = idle ?? ShoutBusOptions.DefaultSenderIdle;
    private long _evicted;

    /// <summary>Senders remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _senders.Count;
            }
        }
    }

    /// <summary>Senders forgotten since start to stay within the limit or because they were idle.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>
    /// True when the message is new; <paramref name="missed"/> is how many lines before it never
    /// arrived. A message numbers its last line: it carries <paramref name="lines"/> lines ending at
    /// <paramref name="sequence"/> (senders number lines, not messages, so a loss is counted in lines).
    /// </summary>
    public bool Accept(Guid instance, long sender, long sequence, out long missed, int lines = 1)
    {
        missed = 0;
        var key = (instance, sender);
        var now = _clock.GetTimestamp();
        lock (_lock)
        {
            ForgetIdle(now);
            if (_senders.TryGetValue(key, out var node))
            {
                var last = node.Value.Last;
                if (sequence <= last)
                {
                    return false;
                }

                missed = Math.Max(0, sequence - lines - last);
                node.Value = new Entry(key, sequence, now);
                _byAge.Remove(node);
                _byAge.AddLast(node);
                return true;
            }

            while (_senders.Count >= limit && _byAge.First is { } oldest)
            {
                Remove(oldest);
            }

            _senders[key] = _byAge.AddLast(new Entry(key, sequence, now));
            return true;
        }
    }

    /// <summary>The sender has left: forget it, so the table does not grow with every member ever seen.</summary>
    public void Forget(Guid instance, long sender)
    {
        lock (_lock)
        {
            if (_senders.Remove((instance, sender), out var node))
            {
                _byAge.Remove(node);
            }
        }
    }

    /// <summary>Forgets the senders idle for longer than the limit; called now and then, so a quiet bus frees them too.</summary>
    public void ForgetIdle()
    {
        var now = _clock.GetTimestamp();
        lock (_lock)
        {
            ForgetIdle(now);
            if (_senders.Count == 0)
            {
                // A flood made the table big once; give the memory back.
                _senders.TrimExcess();
            }
        }
    }

    private void ForgetIdle(long now)
    {
        while (_byAge.First is { } oldest && _clock.GetElapsedTime(oldest.Value.Heard, now) > _idle)
        {
            Remove(oldest);
        }
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _senders.Remove(node.Value.Key);
        _byAge.Remove(node);
        Interlocked.Increment(ref _evicted);
    }

    private readonly record struct Entry((Guid Instance, long Sender) Key, long Last, long Heard);
}
