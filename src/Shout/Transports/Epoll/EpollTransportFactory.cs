using System.Buffers;
using System.Net.Sockets;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Transports.Epoll;

/// <summary>
/// Kestrel's transport for <see cref="StreamTransport.Epoll"/>: TCP and Unix stream endpoints on
/// Shout's own epoll loops, and listening stream sockets passed by systemd or a handover
/// (<see cref="FileHandleEndPoint"/>, adopted by <see cref="ListenSockets"/>). Kestrel asks every
/// factory's <see cref="CanBind"/>, newest registration first, so this one takes them all from the
/// socket transport. The loops start with the first bind and stop when the host is disposed. Thread-safe.
/// </summary>
internal sealed class EpollTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly SocketTuning _tuning;
    private readonly ListenSockets _sockets;
    private readonly MemoryPool<byte> _pool;
    private readonly ILoggerFactory _loggers;
    private readonly Lazy<EpollLoop[]> _loops;
    private readonly EpollSettings _settings;
    private readonly LiveConnections _live = new();
    private readonly EpollBurstWatch? _burstWatch;
    private int _next;
    private long _accepted;

    public EpollTransportFactory(SocketTuning tuning, long readBufferLimit, ListenSockets sockets, IMemoryPoolFactory<byte> pools, ILoggerFactory loggers,
        TimeProvider? clock = null)
    {
        _tuning = tuning;
        _sockets = sockets;
        _loggers = loggers;
        _pool = pools.Create();
        _loops = new Lazy<EpollLoop[]>(StartLoops);

        // With inline scheduling the handler runs on the loop thread, straight from the read (Kestrel's
        // UnsafePreferInlineScheduling); otherwise on the thread pool.
        _settings = new EpollSettings(Math.Max(tuning.BlockSize, 4096), readBufferLimit, tuning.MaxWriteBufferSize, tuning.InlineScheduling);
        if (clock is not null)
        {
            // The connections' buffers are ArrayPool arrays the block pool's trim never sees: a crowd that left is collected here.
            _burstWatch = new EpollBurstWatch(_live, _settings.ReadSize, clock);
        }
    }

    /// <summary>Collections the burst watch asked for after a crowd left.</summary>
    internal int BurstCollections => _burstWatch?.Collections ?? 0;

    /// <summary>Event-loop threads: one per core the process may use, at most four (or <see cref="SocketTuning.IOQueueCount"/>).</summary>
    internal int LoopCount => _tuning.IOQueueCount is > 0 and var queues ? Math.Min(queues, 16) : Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>Connections this transport has accepted.</summary>
    internal long Accepted => Interlocked.Read(ref _accepted);

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint or FileHandleEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        Socket socket;
        try
        {
            socket = _sockets.Create(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }

        try
        {
            socket.Listen(_tuning.Backlog);
            socket.Blocking = false;
            var listener = new EpollListener(this, endpoint, socket, _loggers.CreateLogger<EpollListener>());
            if (endpoint is FileHandleEndPoint)
            {
                // The holder keeps the file open after the handover closes our descriptor, and with it
                // the epoll registration: the listener must leave the set first.
                _sockets.BeforeRelease(socket, listener.Detach);
            }

            return ValueTask.FromResult<IConnectionListener>(listener);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The loop for the next listener or connection, round robin.</summary>
    internal EpollLoop NextLoop() => _loops.Value[NextIndex()];

    internal EpollConnection CreateConnection(SocketFd handle, ReadOnlySpan<byte> peer, EndPoint? local)
    {
        Interlocked.Increment(ref _accepted);
        return new EpollConnection(handle, peer, local, _loops.Value[NextIndex()], _pool, _settings, _live);
    }

    private int NextIndex() => (int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Value.Length);

    public void Dispose()
    {
        _burstWatch?.Dispose();
        if (_loops.IsValueCreated)
        {
            foreach (var loop in _loops.Value)
            {
                loop.Dispose();
            }
        }

        _pool.Dispose();
    }

    private EpollLoop[] StartLoops()
    {
        var logger = _loggers.CreateLogger<EpollLoop>();
        return [.. Enumerable.Range(0, LoopCount).Select(i => new EpollLoop(i, logger))];
    }
}
