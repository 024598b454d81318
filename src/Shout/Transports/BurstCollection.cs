using System.Runtime.InteropServices;

namespace Shout.Transports;

/// <summary>
/// After the block pools gave back a burst's worth of blocks (a crowd of clients came and went), asks
/// the runtime for one full collection, so what those connections left on the GC heap (the runtime's
/// own buffers: <c>ArrayPool</c> arrays, TLS and WebSocket buffers, pipes) is freed and its memory
/// decommitted. Without it nothing would: a server that has gone idle allocates nothing, so the GC
/// never runs. Then the C allocator is asked to give back its free pages: TLS connections keep
/// OpenSSL's per-connection state and buffers there, and glibc keeps what they freed between chunks
/// still in use. At most one per period, only after a large release, never on a connection's path.
/// </summary>
internal sealed partial class BurstCollection(long threshold, TimeSpan minInterval, TimeProvider clock)
{
    /// <summary>Bytes given back in one trim from which a collection is worth it: 128 blocks of 64 KiB.</summary>
    internal const long DefaultThreshold = 8L * 1024 * 1024;

    private readonly Lock _lock = new();
    private long _last = long.MinValue;

    /// <summary>Collections asked for so far.</summary>
    internal int Collections { get; private set; }

    /// <summary>A pool's trim gave back <paramref name="bytes"/>.</summary>
    internal bool Released(long bytes)
    {
        if (bytes < threshold)
        {
            return false;
        }

        lock (_lock)
        {
            var now = clock.GetTimestamp();
            if (_last != long.MinValue && clock.GetElapsedTime(_last, now) < minInterval)
            {
                return false;
            }

            _last = now;
            Collections++;
        }

        // Aggressive: compacts and decommits the emptied regions at once, so the memory leaves the process.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        TrimNativeHeap();
        return true;
    }

    private static bool _noMallocTrim;

    private static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux() || _noMallocTrim)
        {
            return;
        }

        try
        {
            // Returns whether anything went back; nothing to do either way.
            _ = MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): its allocator gives back what it can by itself.
            _noMallocTrim = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
