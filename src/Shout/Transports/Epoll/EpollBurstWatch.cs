namespace Shout.Transports.Epoll;

/// <summary>
/// The block pool's trim asks for one collection after a crowd of clients came and went
/// (<see cref="BurstCollection"/>), but the epoll transport's connections receive into and queue
/// replies in <c>ArrayPool</c> arrays, not the pool's blocks: when its crowd leaves, no trim sees it,
/// and a server gone idle allocates nothing, so the GC would never free what they held (row 20: 45–112 MiB
/// stayed, against 12–27 MiB on the socket transport). This watch looks at the transport's live
/// connections once a second (<see cref="LiveConnections"/>: counted until a connection is disposed,
/// so its arrays are back by then, with the peak between two looks, so a crowd that came and went
/// within one second counts); when they fell from their peak since the last collection by as many
/// connections as a burst's worth of read buffers (<see cref="BurstCollection.DefaultThreshold"/>), it
/// asks for the same collection, however fast or slowly they left. Never on a connection's path.
/// </summary>
internal sealed class EpollBurstWatch : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>Ticks from a collection to its one follow-up: just over the collections' minimum interval.</summary>
    private static readonly int AgainAfterTicks = (int)(BlockMemoryPool.DefaultTrimPeriod / Tick) + 1;

    private readonly LiveConnections _connections;
    private readonly long _bytesPerConnection;
    private readonly BurstCollection _collection;
    private readonly ITimer _timer;
    private readonly object _ticking = new();
    private long _peak;
    private int _again;
    private long _againBytes;

    /// <param name="connections">The transport's connections.</param>
    /// <param name="bytesPerConnection">What one connection's buffers come to (a read buffer).</param>
    /// <param name="clock">The timer's clock.</param>
    public EpollBurstWatch(LiveConnections connections, long bytesPerConnection, TimeProvider clock)
    {
        _connections = connections;
        _bytesPerConnection = bytesPerConnection;
        _collection = new BurstCollection(BurstCollection.DefaultThreshold, BlockMemoryPool.DefaultTrimPeriod, clock);
        _timer = clock.CreateTimer(static s => ((EpollBurstWatch)s!).OnTick(), this, Tick, Tick);
    }

    /// <summary>Collections asked for so far.</summary>
    internal int Collections => _collection.Collections;

    internal void OnTick()
    {
        // One tick at a time (a timer may overlap itself).
        if (!Monitor.TryEnter(_ticking))
        {
            return;
        }

        try
        {
            _peak = Math.Max(_peak, _connections.TakePeak());
            var open = _connections.Live;
            var left = _peak - open;

            // Measured from here once collected; refused (too soon after the last), tried again next tick.
            if (left >= BurstCollection.DefaultThreshold / _bytesPerConnection && _collection.Released(left * _bytesPerConnection))
            {
                _peak = open;
                _again = AgainAfterTicks;
                _againBytes = left * _bytesPerConnection;
            }
            else if (_again > 0 && --_again == 0)
            {
                // Once more a trim period later: a connection whose session ended may give its arrays
                // back only when the transport disposes it, after the first collection.
                _ = _collection.Released(_againBytes);
            }
        }
        finally
        {
            Monitor.Exit(_ticking);
        }
    }

    public void Dispose() => _timer.Dispose();
}
