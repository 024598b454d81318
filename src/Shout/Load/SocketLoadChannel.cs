using System.Net;
using System.Net.Sockets;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// TCP and Unix stream sockets for the load generator: a raw <see cref="Socket"/>, whose
/// <c>SendAsync</c>/<c>ReceiveAsync</c> on <see cref="Memory{T}"/> reuse one cached awaitable per
/// direction, so a message costs no allocation.
/// </summary>
internal sealed class SocketLoadDialer : ILoadDialer
{
    private readonly EndPoint _target;
    private readonly ProtocolType _protocol;
    private readonly TimeSpan _timeout;

    private SocketLoadDialer(EndPoint target, ProtocolType protocol, TimeSpan timeout)
    {
        _target = target;
        _protocol = protocol;
        _timeout = timeout;
    }

    public static async Task<SocketLoadDialer> CreateAsync(ShoutEndpoint endpoint, TimeSpan timeout, AddressFamily? family, CancellationToken cancellationToken)
    {
        if (endpoint.Transport == ShoutTransport.Unix)
        {
            return new SocketLoadDialer(new UnixDomainSocketEndPoint(endpoint.Path), ProtocolType.Unspecified, timeout);
        }

        // Resolve once: thousands of connects must not each ask DNS.
        var addresses = await ShoutConnection.ResolveAsync(endpoint, family, cancellationToken);
        return new SocketLoadDialer(new IPEndPoint(addresses[0], endpoint.Port), ProtocolType.Tcp, timeout);
    }

    public async ValueTask<LoadChannel> ConnectAsync(CancellationToken cancellationToken)
    {
        var timeout = _timeout;
        var socket = new Socket(_target.AddressFamily, SocketType.Stream, _protocol);
        try
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(_target, timer.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"connect to {_target} timed out");
            }

            if (_protocol == ProtocolType.Tcp)
            {
                socket.NoDelay = true;
            }

            return new SocketLoadChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>One socket connection of the load generator.</summary>
internal sealed class SocketLoadChannel(Socket socket) : LoadChannel
{
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => socket.ReceiveAsync(buffer, SocketFlags.None);

    public override ValueTask HalfCloseAsync()
    {
        socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }

    public override void Abort()
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
