using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Shout.Transports.Epoll;

/// <summary>
/// One accepted connection of the epoll transport, with the semantics of Kestrel's socket transport
/// (<c>SocketConnection</c>): the client's FIN completes the input and fires
/// <see cref="ConnectionClosed"/> while replies still flow; a reset completes the input with a
/// <see cref="ConnectionResetException"/>; the application completing its output sends what is left
/// and then FIN; <see cref="Abort(ConnectionAbortedException)"/> shuts the socket down and closes it.
/// <para>
/// The transport is the socket itself, as in a C epoll server, with no pipe in between: the
/// <see cref="Reader"/> receives straight into a buffer rented for that read (on the reading thread,
/// or on the loop thread when epoll reports the socket readable while a read waits), and the
/// <see cref="Writer"/> sends on the flushing thread, leaving what the kernel did not take for the
/// loop's EPOLLOUT. An idle connection holds no buffer and no task.
/// </para>
/// </summary>
internal sealed partial class EpollConnection : ConnectionContext, IEpollHandler, IDuplexPipe
{
    private const uint HangUp = EpollNative.EpollRdHup | EpollNative.EpollHup | EpollNative.EpollErr;

    // What the reader and writer receive and send on (EpollNative); also the connection's lock (its
    // monitor: a Lock object each for the connection, the reader and the writer was 120 bytes per
    // idle connection). The reader and writer lock themselves; nothing else locks these objects.
    private readonly SocketFd _handle;
    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly Reader _reader;
    private readonly Writer _writer;
    private readonly LiveConnections _live;
    private long _token;

    /// <summary>The loop's token for this registration (0 when none): the same field <see cref="EpollLoop.Register"/> returns.</summary>
    public long EpollToken
    {
        get => Volatile.Read(ref _token);
        set => Volatile.Write(ref _token, value);
    }

    // Under lock (_handle).
    private bool _socketDisposed;
    private bool _receiveFinished;
    private TaskCompletionSource? _receiveEnded;
    private TaskCompletionSource? _socketClosed;
    private Socket? _featureSocket;
    private CancellationTokenSource? _closed;
    private bool _closedDisposed;
    private volatile Exception? _shutdownReason;

    /// <param name="handle">The accepted socket's descriptor, non-blocking, owned from here on.</param>
    /// <param name="peer">The client's address as accept gave it.</param>
    /// <param name="local">The socket's own endpoint (shared by the listener's connections while it is the same).</param>
    /// <param name="loop">The loop that reports its events.</param>
    /// <param name="pool">The transport's pool, offered to the layers above (<see cref="MemoryPool"/>).</param>
    /// <param name="settings">Buffer sizes and scheduling, shared by the transport's connections.</param>
    /// <param name="live">The transport's count of connections, this one included until it is disposed.</param>
    public EpollConnection(SocketFd handle, ReadOnlySpan<byte> peer, EndPoint? local, EpollLoop loop, MemoryPool<byte> pool, EpollSettings settings,
        LiveConnections live)
    {
        _handle = handle;
        _fd = (int)handle.DangerousGetHandle();
        _loop = loop;
        MemoryPool = pool;
        _localEndPoint = local;
        SetPeer(peer);
        _reader = new Reader(this, settings);
        _writer = new Writer(this, settings);
        _transport = this;
        _live = live;
        live.Opened();
    }

    public MemoryPool<byte> MemoryPool { get; }

    PipeReader IDuplexPipe.Input => _reader;

    PipeWriter IDuplexPipe.Output => _writer;

    /// <summary>Why the socket was shut down (null while it is open): after a shutdown, also why receiving ended.</summary>
    private Exception? ShutdownReason => _shutdownReason;

    /// <summary>Registers the socket: from here on, epoll reports it to the loop.</summary>
    public void Start()
    {
        var error = _loop.Register(_fd, EpollNative.EpollIn | EpollNative.EpollOut | EpollNative.EpollRdHup | EpollNative.EpollEt, this, out _token);
        if (error != 0)
        {
            Abort(new ConnectionAbortedException($"epoll_ctl refused the connection: errno {error}"));
        }
    }

    public override void Abort(ConnectionAbortedException abortReason) => Shutdown(abortReason);

    public override async ValueTask DisposeAsync()
    {
        _reader.Complete();

        // Sends what is left, then FIN (as the socket transport's send loop does before it ends).
        _writer.Complete();
        await SocketClosedAsync();
        await ReceiveEndedAsync();
        if (_token != 0)
        {
            _loop.Release(_token);
        }

        lock (_handle)
        {
            _closedDisposed = true;
            _closed?.Dispose();
        }

        _live.Disposed();
        await base.DisposeAsync();
    }

    public void OnEvents(uint events)
    {
        if ((events & (EpollNative.EpollIn | HangUp)) != 0)
        {
            _reader.OnReadable((events & HangUp) != 0);
        }

        if ((events & (EpollNative.EpollOut | EpollNative.EpollErr | EpollNative.EpollHup)) != 0)
        {
            _writer.OnWritable();
        }
    }

    /// <summary>Receiving ended (FIN, reset, shutdown): fires <see cref="ConnectionClosed"/>, once; called by the reader under its lock.</summary>
    private void ReceiveEnded()
    {
        lock (_handle)
        {
            _receiveFinished = true;
            _receiveEnded?.TrySetResult();

            // Nobody asked for ConnectionClosed: nothing to fire (a later ask gets a cancelled token).
            if (_closed is null)
            {
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static c => c.CancelClosed(), this, preferLocal: false);
    }

    private Task ReceiveEndedAsync()
    {
        lock (_handle)
        {
            return _receiveFinished ? Task.CompletedTask
                : (_receiveEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private Task SocketClosedAsync()
    {
        lock (_handle)
        {
            return _socketDisposed ? Task.CompletedTask
                : (_socketClosed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private void CancelClosed()
    {
        try
        {
            CancellationTokenSource? closed;
            lock (_handle)
            {
                closed = _closed;
            }

            closed?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nobody is listening.
        }
    }

    /// <summary>
    /// The token source of <see cref="ConnectionClosed"/>, made when first asked for (no layer asks
    /// while a connection is idle: 48 bytes less per idle connection); cancelled at once when
    /// receiving has ended already.
    /// </summary>
    private CancellationToken ClosedToken()
    {
        lock (_handle)
        {
            if (_closed is null)
            {
                if (_closedDisposed)
                {
                    return new CancellationToken(canceled: true);
                }

                _closed = new CancellationTokenSource();
                if (_receiveFinished)
                {
                    // No callback can be registered yet: cancelling here runs none under the lock.
                    _closed.Cancel();
                }
            }

            return _closed.Token;
        }
    }

    /// <summary>
    /// Closes the socket once (FIN both ways, as Kestrel does even for aborts, then close), from any
    /// thread but never under the reader's or writer's lock. A null reason is the graceful end: the
    /// application completed its output and all of it was sent.
    /// </summary>
    private void Shutdown(Exception? reason)
    {
        lock (_handle)
        {
            if (_socketDisposed)
            {
                return;
            }

            _socketDisposed = true;
            _shutdownReason = reason ?? new ConnectionAbortedException("The epoll transport's send loop completed gracefully.");

            // Out of the set before the descriptor number can be reused by another connection.
            EpollNative.Remove(_loop.Epoll, _fd);

            // Already reset or closed by the peer: the close below is all there is to do.
            EpollNative.ShutdownBoth(_handle);
            _featureSocket?.Dispose();
            _handle.Dispose();
            _socketClosed?.TrySetResult();
        }

        _writer.OnShutdown();

        // On the loop, as every completion of a waiting read is when inline scheduling runs the handler there.
        _loop.Schedule(static c => ((EpollConnection)c!)._reader.OnShutdown(), this);
    }

    private static bool IsReset(SocketError error) => error is SocketError.ConnectionReset or SocketError.Shutdown;

    private static Exception Failure(SocketError error)
    {
        var failure = new SocketException((int)error);
        return IsReset(error) ? new ConnectionResetException(failure.Message, failure) : failure;
    }
}
