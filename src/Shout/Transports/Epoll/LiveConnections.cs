namespace Shout.Transports.Epoll;

/// <summary>
/// A transport's connections from creation to disposal (when their arrays are back), with the most
/// seen at once since the last look: a crowd that came and went between two looks is still seen.
/// Sampling the count alone missed it; 300 Unix clients connected, stalled and were gone in under a
/// second, and the 40 MiB they left on the heap was never collected (row 20). Thread-safe; costs one
/// interlocked operation per connection opened or disposed, nothing per message.
/// </summary>
internal sealed class LiveConnections
{
    private long _live;
    private long _peak;

    /// <summary>Connections created and not yet disposed.</summary>
    public long Live => Interlocked.Read(ref _live);

    public void Opened() => Raise(Interlocked.Increment(ref _live));

    public void Disposed() => Interlocked.Decrement(ref _live);

    /// <summary>The most open at once since the last call (at least as many as are open now); the next period starts here.</summary>
    public long TakePeak()
    {
        var peak = Interlocked.Exchange(ref _peak, 0);

        // One opened between the exchange and here raised the new period's peak itself.
        var live = Live;
        Raise(live);
        return Math.Max(peak, live);
    }

    private void Raise(long count)
    {
        var peak = Volatile.Read(ref _peak);
        while (count > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peak, count, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}
