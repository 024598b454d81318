using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>
/// A client's open stream connection to a Shout (or any uppercase/echo) server over TCP or a Unix
/// socket. Reading and writing may run concurrently (one reader, one writer); not otherwise thread-safe.
/// </summary>
public sealed class ShoutConnection : IAsyncDisposable
{
    private readonly Socket _socket;

    private ShoutConnection(Socket socket, Stream stream, EndPoint remote)
    {
        _socket = socket;
        Stream = stream;
        RemoteEndPoint = remote;
    }

    /// <summary>The byte stream to the server.</summary>
    public Stream Stream { get; }

    /// <summary>The address actually connected to.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, trying every address a host name resolves to in turn.
    /// Throws <see cref="SocketException"/> (refused, unreachable) or <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<ShoutConnection> ConnectAsync(ShoutEndpoint endpoint, TimeSpan connectTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        switch (endpoint.Transport)
        {
            case ShoutTransport.Unix:
                var unix = new UnixDomainSocketEndPoint(endpoint.Path);
                return await ConnectToAsync([unix], SocketType.Stream, ProtocolType.Unspecified, connectTimeout, cancellationToken);
            case ShoutTransport.Tcp:
                var addresses = await ResolveAsync(endpoint, cancellationToken);
                return await ConnectToAsync([.. addresses.Select(a => new IPEndPoint(a, endpoint.Port))], SocketType.Stream,
                    ProtocolType.Tcp, connectTimeout, cancellationToken);
            default:
                throw new NotSupportedException($"{endpoint}: the client cannot dial {endpoint.Transport} yet");
        }
    }

    /// <summary>Every address of <paramref name="endpoint"/>'s host: the literal itself, or what DNS answers.</summary>
    public static async Task<IPAddress[]> ResolveAsync(ShoutEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (IPAddress.TryParse(endpoint.Host, out var literal))
        {
            return [literal];
        }

        var addresses = await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    private static async Task<ShoutConnection> ConnectToAsync(EndPoint[] candidates, SocketType type, ProtocolType protocol,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var candidate in candidates)
        {
            var socket = new Socket(candidate.AddressFamily, type, protocol);
            try
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timer.CancelAfter(timeout);
                await socket.ConnectAsync(candidate, timer.Token);
                if (protocol == ProtocolType.Tcp)
                {
                    socket.NoDelay = true;
                }

                return new ShoutConnection(socket, new NetworkStream(socket, ownsSocket: false), candidate);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = new TimeoutException($"connecting to {candidate} timed out after {timeout.TotalSeconds:0.#} s");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Tells the server no more data will come (TCP FIN); replies can still be read.</summary>
    public ValueTask HalfCloseAsync()
    {
        _socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }

    /// <summary>Resets the connection (RST) instead of closing it gracefully.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _socket.Dispose();
    }
}
