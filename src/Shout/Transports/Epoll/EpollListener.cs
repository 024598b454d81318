using System.Net.Sockets;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Hosting;
using Shout.Sessions;
using Shout.Transports.Admission;

namespace Shout.Transports.Epoll;

/// <summary>
/// A listen socket of the epoll transport. It sits in one loop's epoll set (level-triggered);
/// on readiness that loop accepts (accept4, non-blocking) until the queue is empty, gives each new
/// connection to a loop (round robin), starts it, and queues it for Kestrel's
/// <see cref="AcceptAsync"/>. The socket comes from <see cref="ListenSockets"/>, so SO_REUSEPORT
/// listeners join the group <see cref="ListenerHandover"/> detaches at stop; a listen socket closed
/// there ends accepting here without harm. Near the process's descriptor limit
/// (<see cref="DescriptorBudget"/>), or when accept fails for want of descriptors or memory, the
/// listener leaves the epoll set and comes back after a backoff: level-triggered, it would otherwise
/// be reported again at once, and the loop would spin on a failing accept.
/// </summary>
internal sealed partial class EpollListener : IConnectionListener, IEpollHandler
{
    /// <summary>Most connections taken per readiness event, so one busy listener does not starve the loop's connections.</summary>
    private const int AcceptBatch = 64;

    private readonly EpollTransportFactory _transport;
    private readonly Socket _socket;
    private readonly EpollLoop _loop;
    private readonly Channel<EpollConnection> _accepted = Channel.CreateUnbounded<EpollConnection>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly ILogger _logger;
    private readonly DescriptorBackoff _backoff = new();
    private readonly Lock _membership = new();
    private long _token;

    /// <summary>The loop's token for this registration (0 when none): the same field <see cref="EpollLoop.Register"/> returns.</summary>
    public long EpollToken
    {
        get => Volatile.Read(ref _token);
        set => Volatile.Write(ref _token, value);
    }
    private int _unbound;
    private bool _detached;
    private SockAddr _localBytes;
    private int _localLength;
    private EndPoint? _local;

    public EpollListener(EpollTransportFactory transport, EndPoint requested, Socket socket, ILogger logger)
    {
        _transport = transport;
        _socket = socket;
        _logger = logger;
        _loop = transport.NextLoop();
        EndPoint = socket.LocalEndPoint is IPEndPoint bound ? bound : requested;
        var error = _loop.Register((int)socket.Handle, EpollNative.EpollIn, this, out _token);
        if (error != 0)
        {
            throw new IOException($"epoll_ctl refused the listen socket {requested}: errno {error}");
        }
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _accepted.Reader.WaitToReadAsync(cancellationToken))
            {
                if (_accepted.Reader.TryRead(out var connection))
                {
                    return connection;
                }
            }
        }
        catch (ChannelClosedException)
        {
            // Unbound.
        }

        return null;
    }

    public void OnEvents(uint events)
    {
        Span<byte> peer = stackalloc byte[AddressSpace];
        for (var i = 0; i < AcceptBatch && Volatile.Read(ref _unbound) == 0; i++)
        {
            if (!DescriptorBudget.Process.HasRoom())
            {
                Pause();
                return;
            }

            var fd = AcceptOne(peer, out var peerLength);
            if (fd < 0)
            {
                if (fd is -EMFile or -ENFile or -ENoBufs or -ENoMem)
                {
                    Pause();
                }
                else if (fd is not (-EpollNative.EAgain or -EpollNative.EIntr) && fd != int.MinValue)
                {
                    Log.AcceptFailed(_logger, EndPoint, -fd);
                }

                return;
            }

            if (_backoff.Reset())
            {
                DescriptorLog.Resumed(_logger, EndPoint.ToString() ?? "?");
            }

            Admit(fd, peer[..peerLength]);
        }
    }

    /// <summary>sizeof(struct sockaddr_storage): room for any address accept or getsockname returns.</summary>
    private const int AddressSpace = 128;

    // accept4's errors that mean "no descriptor or buffer for one more connection now".
    private const int EMFile = 24;
    private const int ENFile = 23;
    private const int ENoMem = 12;
    private const int ENoBufs = 105;

    /// <summary>On the loop's thread: out of the set until the backoff has passed (<see cref="Resume"/>).</summary>
    private void Pause()
    {
        if (!_backoff.Paused)
        {
            DescriptorLog.Paused(_logger, EndPoint.ToString() ?? "?", DescriptorBudget.Process.Reserve, DescriptorBudget.Process.Limit);
        }

        RemoveFromSet();
        _ = ResumeLaterAsync(_backoff.Next());
    }

    private async Task ResumeLaterAsync(TimeSpan wait)
    {
        await Task.Delay(wait);
        _loop.Schedule(static state => ((EpollListener)state!).Resume(), this);
    }

    /// <summary>Back in the set; still short of descriptors, the next readiness pauses it again with a longer wait.</summary>
    private void Resume()
    {
        if (Volatile.Read(ref _unbound) != 0)
        {
            return;
        }

        // Under the lock a Detach cannot slip between the check and the add.
        using var scope = _membership.EnterScope();
        if (_detached)
        {
            return;
        }

        var added = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            var error = EpollNative.Add(_loop.Epoll, (int)_socket.SafeHandle.DangerousGetHandle(), EpollNative.EpollIn, (nint)_token);
            if (error != 0)
            {
                Log.AcceptFailed(_logger, EndPoint, error);
            }
        }
        catch (ObjectDisposedException)
        {
            // Unbound meanwhile: nothing to resume.
        }
        finally
        {
            if (added)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Out of the epoll set for good, before a socket passed by systemd or a handover is released
    /// (<see cref="ListenSockets.Release"/>): the holder keeps the file open, so closing our descriptor
    /// would leave the registration reporting every connection queued for the next instance.
    /// </summary>
    internal void Detach()
    {
        lock (_membership)
        {
            _detached = true;
            RemoveFromSet();
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) == 0)
        {
            // Out of the set before the close: closing the descriptor drops the registration only when
            // the file itself goes, and a child forked a moment ago holds it until it execs. Events
            // that still come for the token find nobody.
            RemoveFromSet();
            _socket.Dispose();
            _loop.Release(_token);
            _accepted.Writer.TryComplete();
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync();

        // Accepted but never taken by Kestrel: closed here.
        while (_accepted.Reader.TryRead(out var connection))
        {
            connection.Abort(new ConnectionAbortedException("The listener was disposed."));
            await connection.DisposeAsync();
        }
    }

    /// <summary>EPOLL_CTL_DEL while the descriptor is surely still this socket's (a closed one's number may be another's now).</summary>
    private void RemoveFromSet()
    {
        var added = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            EpollNative.Remove(_loop.Epoll, (int)_socket.SafeHandle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Closed already (the handover closes detached listeners): the token release covers it.
        }
        finally
        {
            if (added)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    /// <summary>accept4 on the listen socket, held open for the call; int.MinValue when it is closed already.</summary>
    private int AcceptOne(Span<byte> peer, out int peerLength)
    {
        var added = false;
        peerLength = 0;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            return EpollNative.Accept(_socket.SafeHandle.DangerousGetHandle(), peer, out peerLength);
        }
        catch (ObjectDisposedException)
        {
            return int.MinValue;
        }
        finally
        {
            if (added)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    private void Admit(int fd, ReadOnlySpan<byte> peer)
    {
        var handle = new SocketFd(fd);

        // As Kestrel's socket transport: replies go out at once, not after Nagle's wait. A socket
        // reset before it was set up refuses the option: nothing to serve.
        if (SockAddr.IsIP(peer) && EpollNative.SetNoDelay(fd) != 0)
        {
            handle.Dispose();
            return;
        }

        var connection = _transport.CreateConnection(handle, peer, LocalOf(fd));
        connection.Start();
        if (!_accepted.Writer.TryWrite(connection))
        {
            connection.Abort(new ConnectionAbortedException("The listener was unbound."));
            _ = connection.DisposeAsync().AsTask();
        }
    }

    /// <summary>
    /// The accepted socket's own endpoint, one object for all the connections that share it (every
    /// connection of a listener bound to one address; per local address of a wildcard one): on the
    /// loop's thread only, so the cache needs no lock.
    /// </summary>
    private EndPoint? LocalOf(int fd)
    {
        Span<byte> raw = stackalloc byte[AddressSpace];
        var length = EpollNative.LocalAddress(fd, raw);
        if (length == 0)
        {
            return null;
        }

        var address = raw[..length];
        if (_local is not null && length == _localLength && address.SequenceEqual(((ReadOnlySpan<byte>)_localBytes)[..length]))
        {
            return _local;
        }

        var local = SockAddr.ToEndPoint(address);
        if (length <= SockAddr.Size)
        {
            address.CopyTo(_localBytes);
            _localLength = length;
            _local = local;
        }

        return local;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.EpollAcceptFailed, LogLevel.Warning, "epoll transport: accept on {EndPoint} failed: errno {Errno}", EventName = "EpollAcceptFailed")]
        public static partial void AcceptFailed(ILogger logger, EndPoint endPoint, int errno);
    }
}
