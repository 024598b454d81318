namespace Shout.Server.Epoll;

/// <summary>
/// The block pool's trim asks for one collection after a crowd of clients came and went
/// (<see cref="BurstCollection"/>), but the epoll transport's connections receive into and queue
/// replies in <c>ArrayPool</c> arrays, not the pool's blocks: when its crowd leaves, no trim sees it,
/// and a server gone idle allocates nothing, so the GC would never free what they held (row 20: 45–112 MiB
/// stayed, against 12–27 MiB on the socket transport). This watch looks at the open connections once
/// a second; when they fell from the period's peak by as many connections as a burst's worth of
/// read buffers (<see cref="BurstCollection.DefaultThreshold"/>), it asks for the same collection, one
/// second later so the closed connections have given back their arrays. Never on a connection's path.
/// </summary>
internal sealed class EpollBurstWatch : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly Func<long> _open;
    private readonly long _bytesPerConnection;
    private readonly BurstCollection _collection;
    private readonly int _ticksPerPeriod;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private long _peak;
    private long _left;
    private int _ticks;

    /// <param name="open">The connections open now.</param>
    /// <param name="bytesPerConnection">What one connection's buffers come to (a read buffer).</param>
    /// <param name="clock">The timer's clock.</param>
    public EpollBurstWatch(Func<long> open, long bytesPerConnection, TimeProvider clock)
    {
        _open = open;
        _bytesPerConnection = bytesPerConnection;
        _collection = new BurstCollection(BurstCollection.DefaultThreshold, BlockMemoryPool.DefaultTrimPeriod, clock);
        _ticksPerPeriod = (int)(BlockMemoryPool.DefaultTrimPeriod / Tick);
        _timer = clock.CreateTimer(static s => ((EpollBurstWatch)s!).OnTick(), this, Tick, Tick);
    }

    /// <summary>Collections asked for so far.</summary>
    internal int Collections => _collection.Collections;

    internal void OnTick()
    {
        long left;
        lock (_lock)
        {
            // Asked for on the tick after the fall was seen.
            left = _left;
            _left = 0;
            var open = _open();
            _peak = Math.Max(_peak, open);
            if (_peak - open >= BurstCollection.DefaultThreshold / _bytesPerConnection)
            {
                _left = _peak - open;
                _peak = open;
                _ticks = 0;
            }
            else if (++_ticks >= _ticksPerPeriod)
            {
                // A slow decline over many periods is no burst: the peak is the last period's only.
                _peak = open;
                _ticks = 0;
            }
        }

        if (left > 0)
        {
            _collection.Released(left * _bytesPerConnection);
        }
    }

    public void Dispose() => _timer.Dispose();
}
