using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Shout.Transports;

/// <summary>
/// A memory pool for Kestrel's transports whose blocks are larger than Kestrel's own 4 KiB: the
/// transport receives into at most one block per system call, so a streaming client costs one read
/// per block. Blocks are page-aligned slices of pinned arrays (<see cref="PageBlock"/>), whose
/// pages can be given back to the system without the GC. Idle connections hold none (see
/// <see cref="SocketTuning.WaitForDataBeforeAllocatingBuffer"/>).
/// </summary>
/// <remarks>
/// Every <see cref="TrimPeriod"/> the pool gives back the pages of the free blocks beyond
/// <see cref="Reserve"/> that stayed free that whole period (the fewest free blocks seen in it):
/// a burst of clients that stalled and left costs nothing a period or two after they are gone,
/// while blocks a steady load keeps using are never touched. A block given back keeps its address
/// range and is rented again after the warm ones (its first use faults in zeroed pages). Rent and
/// return are lock-free and allocate nothing once warm; only the trim, on a timer, takes a lock.
/// </remarks>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>How long a free block must go unneeded before its pages go back (it goes within twice this).</summary>
    internal static readonly TimeSpan DefaultTrimPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Free blocks kept warm whatever the demand: a few reads' worth, so a quiet server does not fault pages in.</summary>
    internal const int DefaultReserve = 8;

    private readonly ConcurrentQueue<PageBlock> _warm = new();
    private readonly ConcurrentQueue<PageBlock> _cold = new();
    private readonly Lock _trimLock = new();
    private readonly int _blockSize;
    private readonly ITimer? _timer;
    private readonly Action<long>? _onReleased;

    // Blocks in _warm, and the fewest seen since the last trim: that many stayed free the whole period.
    private int _warmCount;
    private int _lowWater;
    private int _blocks;
    private long _released;
    private int _disposed;

    /// <param name="blockSize">Bytes per block (each takes whole pages).</param>
    /// <param name="clock">The trim's clock; null never trims (every block stays warm).</param>
    /// <param name="trimPeriod">See <see cref="TrimPeriod"/>; default <see cref="DefaultTrimPeriod"/>.</param>
    /// <param name="reserve">See <see cref="Reserve"/>.</param>
    /// <param name="onReleased">Told the bytes each trim gave back, if any.</param>
    public BlockMemoryPool(int blockSize, TimeProvider? clock = null, TimeSpan? trimPeriod = null, int reserve = DefaultReserve,
        Action<long>? onReleased = null)
    {
        _onReleased = onReleased;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        _blockSize = blockSize;
        TrimPeriod = trimPeriod ?? DefaultTrimPeriod;
        Reserve = reserve;
        if (clock is not null)
        {
            // The timer holds the pool weakly, so a pool nobody disposed can still be collected.
            _timer = clock.CreateTimer(static s => OnTimer((WeakReference<BlockMemoryPool>)s!), new WeakReference<BlockMemoryPool>(this),
                TrimPeriod, TrimPeriod);
        }
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>How often idle free blocks are given back.</summary>
    public TimeSpan TrimPeriod { get; }

    /// <summary>Free blocks a trim leaves warm.</summary>
    public int Reserve { get; }

    /// <summary>Free blocks with their pages resident.</summary>
    internal int WarmCount => Volatile.Read(ref _warmCount);

    /// <summary>Free blocks whose pages were given back.</summary>
    internal int ColdCount => _cold.Count;

    /// <summary>Blocks that exist, in use or free.</summary>
    internal int BlockCount => Volatile.Read(ref _blocks);

    /// <summary>Blocks whose pages trims gave back so far.</summary>
    internal long Released => Interlocked.Read(ref _released);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        if (_warm.TryDequeue(out var block))
        {
            var free = Interlocked.Decrement(ref _warmCount);
            // A plain write: a racing rent may leave the mark one high, so a trim may give back a block
            // that was about to be needed; the next rent then faults its pages in again. Never one in use.
            if (free < _lowWater)
            {
                _lowWater = free;
            }

            return block;
        }

        if (_cold.TryDequeue(out block))
        {
            return block;
        }

        Interlocked.Increment(ref _blocks);
        return new PageBlock(this, _blockSize);
    }

    /// <summary>
    /// Gives back the pages of the warm blocks beyond <see cref="Reserve"/> that stayed free since the
    /// last trim, and starts the next period; returns how many. The timer calls it.
    /// </summary>
    internal int Trim()
    {
        lock (_trimLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return 0;
            }

            var idle = Math.Min(Volatile.Read(ref _lowWater), Volatile.Read(ref _warmCount)) - Reserve;
            var released = 0;
            while (released < idle && _warm.TryDequeue(out var block))
            {
                Interlocked.Decrement(ref _warmCount);
                released++;
                if (block.Release())
                {
                    _cold.Enqueue(block);
                }
                else
                {
                    // Where pages cannot be dropped alone, the block goes to the GC.
                    block.Free();
                    Interlocked.Decrement(ref _blocks);
                }
            }

            Volatile.Write(ref _lowWater, Volatile.Read(ref _warmCount));
            Interlocked.Add(ref _released, released);
            return released;
        }
    }

    private static void OnTimer(WeakReference<BlockMemoryPool> pool)
    {
        if (pool.TryGetTarget(out var target) && target.Trim() is > 0 and var released)
        {
            target._onReleased?.Invoke((long)released * target._blockSize);
        }
    }

    internal void Return(PageBlock block)
    {
        _warm.Enqueue(block);
        Interlocked.Increment(ref _warmCount);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Returned by a connection torn down after the pool was disposed: free it (and any other such).
            FreeAll();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _timer?.Dispose();
        lock (_trimLock)
        {
            // Blocks still in use are freed as they come back (Return).
            FreeAll();
        }
    }

    private void FreeAll()
    {
        // Each dequeue takes a block exactly once, so racing callers never free one twice.
        while (_warm.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _warmCount);
            block.Free();
            Interlocked.Decrement(ref _blocks);
        }

        while (_cold.TryDequeue(out var block))
        {
            block.Free();
            Interlocked.Decrement(ref _blocks);
        }
    }
}

/// <summary>
/// Hands Kestrel a <see cref="BlockMemoryPool"/>, trimmed on <paramref name="clock"/>, wherever it asks for a
/// pool; a burst given back by any of them asks for one collection (<see cref="BurstCollection"/>).
/// </summary>
internal sealed class BlockMemoryPoolFactory(int blockSize, TimeProvider clock) : IMemoryPoolFactory<byte>
{
    private readonly BurstCollection _collection = new(BurstCollection.DefaultThreshold, BlockMemoryPool.DefaultTrimPeriod, clock);

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) =>
        new BlockMemoryPool(blockSize, clock, onReleased: bytes => _ = _collection.Released(bytes));
}
