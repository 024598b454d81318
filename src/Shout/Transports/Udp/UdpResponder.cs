using System.Buffers;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// One bound UDP socket and its receive loop: each datagram from an admitted source goes, as one
/// whole message, to that source's <see cref="IProtocol"/> (echo: one reply datagram to its
/// sender); the loop knows no mode. The loop survives every socket error (an ICMP error
/// reported on a later receive, a send refused by a full buffer or an unreachable peer): the error
/// is logged at Debug, counted, and the next datagram is read. Each source is a session of the core
/// (<see cref="UdpPeers"/>): admitted, rate-limited and timed out like any connection; a datagram
/// from a refused source is not answered. The server's drain reaches it as it reaches every other
/// session (<see cref="DrainSignal"/>): it stops receiving, answers what the kernel has already
/// queued, then closes the socket and ends every source's session; a stop without a drain does the same.
/// </summary>
internal sealed class UdpResponder : IAsyncDisposable
{
    private const int MaxDrain = 100_000;

    private readonly Socket _socket;
    private readonly UdpPeers _peers;
    private readonly ShoutMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _outOfTime = new();
    private Task _loop = Task.CompletedTask;
    private readonly DrainSignal? _drainSignal;
    private readonly Drainer _drainer;
    private readonly Lock _drainGate = new();
    private Task? _drain;
    private int _disposed;

    private UdpResponder(Socket socket, ShoutEndpoint bound, Func<string, UdpPeers> peers, IProtocolFactory protocols,
        ShoutMetrics metrics, ILogger logger, DrainSignal? drain)
    {
        _drainSignal = drain;
        _drainer = new Drainer(this);
        _socket = socket;
        Bound = bound;
        _metrics = metrics;
        _logger = logger;
        _name = bound.ToString();
        _peers = peers(_name);
        _peers.Attach(socket, protocols);
    }

    /// <summary>The bound address (a requested port 0 replaced by the real one).</summary>
    public ShoutEndpoint Bound { get; }

    /// <summary>Binds <paramref name="address"/>; <c>[::]</c> is dual-stack. Throws <see cref="IOException"/> when the bind fails.</summary>
    public static UdpResponder Bind(ShoutEndpoint requested, IPAddress address, Func<string, UdpPeers> peers, IProtocolFactory protocols,
        ShoutMetrics metrics, ILogger logger, DrainSignal? drain = null)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(address, requested.Port));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot bind {requested}: {e.Message}", e);
        }

        return new UdpResponder(socket, ShoutEndpoint.For(ShoutTransport.Udp, (IPEndPoint)socket.LocalEndPoint!), peers, protocols,
            metrics, logger, drain);
    }

    /// <summary>Serves a socket bound elsewhere (passed by systemd socket activation).</summary>
    public static UdpResponder Adopt(Socket socket, Func<string, UdpPeers> peers, IProtocolFactory protocols,
        ShoutMetrics metrics, ILogger logger, DrainSignal? drain = null) =>
        new(socket, ShoutEndpoint.For(ShoutTransport.Udp, (IPEndPoint)socket.LocalEndPoint!), peers, protocols, metrics, logger, drain);

    /// <summary>
    /// Starts the receive loop. One per socket: a second loop on the same socket measured no gain
    /// on two cores (docs/transports.md).
    /// </summary>
    public void Start()
    {
        _loop = Task.Run(ReceiveLoopAsync);

        // The drain reaches this socket's sources through the server's one list, like a stream session.
        _drainSignal?.Join(_drainer);
    }

    /// <summary>
    /// The server stops: the drain, if the server's drain has not begun it already; returns when it is
    /// done, or at once (the socket closed, no drain) when <paramref name="cancellationToken"/> says the
    /// shutdown is out of time.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        using var outOfTime = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _outOfTime);
        await DrainAsync();
    }

    /// <summary>The drain, begun once (by <see cref="DrainSignal"/> or the stop), awaited by whoever asks.</summary>
    private Task DrainAsync()
    {
        lock (_drainGate)
        {
            return _drain ??= DrainOnceAsync();
        }
    }

    /// <summary>Stops receiving, answers the datagrams already queued, closes the socket, ends every source's session.</summary>
    private async Task DrainOnceAsync()
    {
        await Task.Yield();
        var cancellationToken = _outOfTime.Token;
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: no drain, just close.
            _socket.Close();
            await _peers.CloseAllAsync(CloseReason.ServerDrain);
            return;
        }

        var drained = 0;
        using var buffers = new Buffers(_socket.AddressFamily);
        try
        {
            // Non-blocking reads of what is already queued; Available is 0 once the queue is empty.
            while (drained < MaxDrain && !cancellationToken.IsCancellationRequested && _socket.Available > 0)
            {
                var received = _socket.ReceiveFrom(buffers.Receive.Span, SocketFlags.None, buffers.Peer);
                await AnswerAsync(buffers, received);
                drained++;
            }
        }
        catch (SocketException e)
        {
            OnSocketError("drain", e);
        }

        UdpLog.Drained(_logger, _name, drained);
        _socket.Close();
        await _peers.CloseAllAsync(CloseReason.ServerDrain);
    }

    private async Task ReceiveLoopAsync()
    {
        using var buffers = new Buffers(_socket.AddressFamily);
        var consecutiveErrors = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var received = await _socket.ReceiveFromAsync(buffers.Receive, SocketFlags.None, buffers.Peer, _stopping.Token);
                consecutiveErrors = 0;
                await AnswerAsync(buffers, received);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                OnSocketError("receive", e);
                consecutiveErrors++;
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                UdpLog.Unexpected(_logger, e, _name);
                consecutiveErrors++;
            }

            if (consecutiveErrors >= 100)
            {
                // A socket that fails every call would spin a core; pause briefly, then try again.
                consecutiveErrors = 0;
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            }
        }
    }

    private async ValueTask AnswerAsync(Buffers buffers, int received)
    {
        if (_peers.Admit(buffers.Peer) is { Protocol: { } protocol } peer)
        {
            // A datagram is one whole message (the buffer is reused after the call).
            var turn = await protocol.ReceiveAsync(new ReadOnlySequence<byte>(buffers.Receive[..received]), end: true, draining: false);
            if (turn.Action != FrameAction.Continue)
            {
                // quit, or a line too long: the source's session ends; it is a new one if it speaks again.
                await _peers.EndAsync(peer, turn.Action switch { FrameAction.Quit => CloseReason.Quit, FrameAction.Gone => CloseReason.Reset, _ => CloseReason.ProtocolError });
            }
        }
    }

    private void OnSocketError(string operation, SocketException e)
    {
        _metrics.DatagramSocketError(operation);
        UdpLog.SocketError(_logger, _name, operation, e.SocketErrorCode.ToString());
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _drainSignal?.Leave(_drainer);
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        _socket.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task? drain;
        lock (_drainGate)
        {
            drain = _drain;
        }

        if (drain is not null)
        {
            await drain.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
        _outOfTime.Dispose();
        _peers.Dispose();
    }

    /// <summary>This socket on the drain's list: the drain begins here, and the stop awaits it.</summary>
    private sealed class Drainer(UdpResponder responder) : DrainMember
    {
        public override void Drain() => _ = responder.DrainAsync();
    }

    /// <summary>One loop's receive buffer, rented for its lifetime: nothing is allocated per datagram.</summary>
    private sealed class Buffers(AddressFamily family) : IDisposable
    {
        private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(UdpReplyRule.ReceiveBufferSize);

        public Memory<byte> Receive => _receive.AsMemory(0, UdpReplyRule.ReceiveBufferSize);

        /// <summary>The sender of the datagram just received, reused for each (the allocation-free overloads fill it in).</summary>
        public SocketAddress Peer { get; } = new(family);

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_receive);
        }
    }
}
