using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;

namespace Shout.Server.Udp;

/// <summary>
/// One bound UDP socket and its receive loop: each datagram is answered with one reply datagram to
/// its sender (<see cref="UdpReplyRule"/>). The loop survives every socket error (an ICMP error
/// reported on a later receive, a send refused by a full buffer or an unreachable peer): the error
/// is logged at Debug, counted, and the next datagram is read. On stop it answers what the kernel
/// has already queued, then closes the socket.
/// </summary>
internal sealed class UdpResponder : IAsyncDisposable
{
    private const string TransportName = "udp";
    private const int MaxDrain = 100_000;

    private readonly Socket _socket;
    private readonly ShoutMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(UdpReplyRule.ReceiveBufferSize);
    private readonly byte[] _reply = ArrayPool<byte>.Shared.Rent(UdpReplyRule.ReplyBufferSize);
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    private UdpResponder(Socket socket, ShoutEndpoint bound, ShoutMetrics metrics, ILogger logger)
    {
        _socket = socket;
        Bound = bound;
        _metrics = metrics;
        _logger = logger;
        _name = bound.ToString();
    }

    /// <summary>The bound address (a requested port 0 replaced by the real one).</summary>
    public ShoutEndpoint Bound { get; }

    /// <summary>Binds <paramref name="address"/>; <c>[::]</c> is dual-stack. Throws <see cref="IOException"/> when the bind fails.</summary>
    public static UdpResponder Bind(ShoutEndpoint requested, IPAddress address, ShoutMetrics metrics, ILogger logger)
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

        var bound = ShoutEndpoint.For(ShoutTransport.Udp, (IPEndPoint)socket.LocalEndPoint!);
        return new UdpResponder(socket, bound, metrics, logger);
    }

    /// <summary>Starts the receive loop.</summary>
    public void Start() => _loop = Task.Run(ReceiveLoopAsync);

    /// <summary>Stops receiving, answers the datagrams already queued, closes the socket.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: no drain, just close.
            _socket.Close();
            return;
        }

        var drained = 0;
        var peer = new SocketAddress(_socket.AddressFamily);
        try
        {
            // Non-blocking reads of what is already queued; Available is 0 once the queue is empty.
            while (drained < MaxDrain && !cancellationToken.IsCancellationRequested && _socket.Available > 0)
            {
                var received = _socket.ReceiveFrom(_receive.AsSpan(0, UdpReplyRule.ReceiveBufferSize), SocketFlags.None, peer);
                Answer(received, peer);
                drained++;
            }
        }
        catch (SocketException e)
        {
            OnSocketError("drain", e);
        }

        UdpLog.Drained(_logger, _name, drained);
        _socket.Close();
    }

    private async Task ReceiveLoopAsync()
    {
        var peer = new SocketAddress(_socket.AddressFamily);
        var buffer = _receive.AsMemory(0, UdpReplyRule.ReceiveBufferSize);
        var consecutiveErrors = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, peer, _stopping.Token);
                consecutiveErrors = 0;
                await AnswerAsync(received, peer);
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

    private async ValueTask AnswerAsync(int received, SocketAddress peer)
    {
        var written = Compose(received, peer);
        try
        {
            // Not cancelled by stop: a reply under way is finished, like a stream reply on drain.
            await _socket.SendToAsync(_reply.AsMemory(0, written), SocketFlags.None, peer, CancellationToken.None);
            _metrics.Answered(TransportName, received, written);
        }
        catch (SocketException e)
        {
            OnSocketError("send", e);
        }
    }

    private void Answer(int received, SocketAddress peer)
    {
        var written = Compose(received, peer);
        try
        {
            _socket.SendTo(_reply.AsSpan(0, written), SocketFlags.None, peer);
            _metrics.Answered(TransportName, received, written);
        }
        catch (SocketException e)
        {
            OnSocketError("send", e);
        }
    }

    private int Compose(int received, SocketAddress peer)
    {
        var written = UdpReplyRule.Compose(_receive.AsSpan(0, received), _reply, UdpReplyRule.MaxPayload(peer), out var truncated);
        if (truncated)
        {
            _metrics.DatagramReplyTruncated();
            UdpLog.Truncated(_logger, _name, received, written);
        }

        return written;
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

        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        _socket.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        ArrayPool<byte>.Shared.Return(_receive);
        ArrayPool<byte>.Shared.Return(_reply);
    }
}
