namespace Shout.Rooms.Bus;

/// <summary>
/// The receiving side of "once, in order, per sender": remembers the last sequence number seen from
/// each sender (instance + member) and says whether a message is new. Numbers count lines: a
/// message of n lines advances its sender's number by n. A number at or below the last
/// is a duplicate; a jump past last + 1 means messages were lost on the way (counted, never
/// re-requested: the bus is at most once). The first message seen from a sender sets its place
/// without counting a gap, since an instance that starts late has not missed anything it could have
/// had. Not thread-safe: one subscription loop owns it.
/// </summary>
internal sealed class SenderSequences
{
    private readonly Dictionary<(Guid Instance, long Sender), long> _last = [];

    /// <summary>Senders remembered now.</summary>
    public int Count => _last.Count;

    /// <summary>
    /// True when the message is new; <paramref name="missed"/> is how many lines before it never
    /// arrived. A message numbers its last line: it carries <paramref name="lines"/> lines ending at
    /// <paramref name="sequence"/> (senders number lines, not messages, so a loss is counted in lines).
    /// </summary>
    public bool Accept(Guid instance, long sender, long sequence, out long missed, int lines = 1)
    {
        missed = 0;
        var key = (instance, sender);
        if (_last.TryGetValue(key, out var last))
        {
            if (sequence <= last)
            {
                return false;
            }

            missed = Math.Max(0, sequence - lines - last);
        }

        _last[key] = sequence;
        return true;
    }

    /// <summary>The sender has left: forget it, so the table does not grow with every member ever seen.</summary>
    public void Forget(Guid instance, long sender) => _last.Remove((instance, sender));
}
