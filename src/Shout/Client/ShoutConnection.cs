using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>
/// A client's open connection to a Shout (or any uppercase/echo) server over TCP, TLS, a Unix
/// socket, or a message transport seen as a stream: UDP (each write one datagram, see
/// <see cref="ShoutDatagramClient"/>) or WebSocket (each write one message, see <see cref="ShoutWebSocketClient"/>).
/// Reading and writing may run concurrently (one reader, one writer); not otherwise thread-safe.
/// </summary>
public sealed class ShoutConnection : IAsyncDisposable
{
    private readonly Socket? _socket;

    private ShoutConnection(Socket? socket, Stream stream, EndPoint remote)
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
    public static Task<ShoutConnection> ConnectAsync(ShoutEndpoint endpoint, TimeSpan connectTimeout, CancellationToken cancellationToken = default) =>
        ConnectAsync(endpoint, new ShoutClientOptions { ConnectTimeout = connectTimeout }, cancellationToken);

    /// <summary>
    /// Connects to <paramref name="endpoint"/> with <paramref name="options"/>: every address a host
    /// name resolves to is tried in turn; a <c>tls://</c> endpoint then runs the handshake and verifies
    /// the server as the options say. Throws <see cref="SocketException"/> (refused, unreachable),
    /// <see cref="TimeoutException"/> or <see cref="System.Security.Authentication.AuthenticationException"/>.
    /// </summary>
    public static async Task<ShoutConnection> ConnectAsync(ShoutEndpoint endpoint, ShoutClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        switch (endpoint.Transport)
        {
            case ShoutTransport.Unix:
                var unix = new UnixDomainSocketEndPoint(endpoint.Path);
                return await ConnectToAsync([unix], ProtocolType.Unspecified, options.ConnectTimeout, cancellationToken);
            case ShoutTransport.Tcp:
                return await ConnectToAsync(await IPEndPointsAsync(endpoint, options.Family, cancellationToken), ProtocolType.Tcp,
                    options.ConnectTimeout, cancellationToken);
            case ShoutTransport.Tls:
                var tcp = await ConnectToAsync(await IPEndPointsAsync(endpoint, options.Family, cancellationToken), ProtocolType.Tcp,
                    options.ConnectTimeout, cancellationToken);
                try
                {
                    var ssl = await TlsDialer.AuthenticateAsync(tcp.Stream, endpoint, options, cancellationToken);
                    return new ShoutConnection(tcp._socket, ssl, tcp.RemoteEndPoint);
                }
                catch
                {
                    await tcp.DisposeAsync();
                    throw;
                }

            case ShoutTransport.Udp:
                var datagrams = await ShoutDatagramClient.ConnectAsync(endpoint, options, cancellationToken);
                return new ShoutConnection(null, new DatagramStream(datagrams, options.ReplyTimeout), datagrams.RemoteEndPoint);
            case ShoutTransport.WebSocket:
                var messages = await ShoutWebSocketClient.ConnectAsync(endpoint, options, cancellationToken);
                return new ShoutConnection(null, new WebSocketMessageStream(messages), messages.RemoteEndPoint);
            default:
                throw new NotSupportedException($"{endpoint}: the client cannot dial {endpoint.Transport}");
        }
    }

    /// <summary>Connects over TCP to the first of <paramref name="candidates"/> that accepts, in order.</summary>
    internal static Task<ShoutConnection> ConnectToAnyAsync(IPEndPoint[] candidates, TimeSpan connectTimeout, CancellationToken cancellationToken) =>
        ConnectToAsync(candidates, ProtocolType.Tcp, connectTimeout, cancellationToken);

    internal static async Task<EndPoint[]> IPEndPointsAsync(ShoutEndpoint endpoint, AddressFamily? family, CancellationToken cancellationToken) =>
        [.. (await ResolveAsync(endpoint, family, cancellationToken)).Select(a => new IPEndPoint(a, endpoint.Port))];

    /// <summary>Every address of <paramref name="endpoint"/>'s host: the literal itself, or what DNS answers.</summary>
    public static Task<IPAddress[]> ResolveAsync(ShoutEndpoint endpoint, CancellationToken cancellationToken) =>
        ResolveAsync(endpoint, null, cancellationToken);

    /// <summary>
    /// The addresses of <paramref name="endpoint"/>'s host of <paramref name="family"/> (every family when null):
    /// the literal itself, or what DNS answers. Throws <see cref="IOException"/> when the literal is of the
    /// other family or the name has no address of this one, <see cref="SocketException"/> when the name is unknown.
    /// </summary>
    public static async Task<IPAddress[]> ResolveAsync(ShoutEndpoint endpoint, AddressFamily? family, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (IPAddress.TryParse(endpoint.Host, out var literal))
        {
            return AddressFamilies.LiteralMismatch(endpoint.Host, family) is { } mismatch ? throw new IOException(mismatch) : [literal];
        }

        var addresses = await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var kept = AddressFamilies.Keep(addresses, family);
        return kept.Length > 0 ? kept
            : throw new IOException($"{endpoint.Host} has no {AddressFamilies.Name(family!.Value)} address (it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))})");
    }

    private static async Task<ShoutConnection> ConnectToAsync(EndPoint[] candidates, ProtocolType protocol,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (socket, remote) = await ConnectSocketAsync(candidates, protocol, timeout, cancellationToken);
        return new ShoutConnection(socket, new NetworkStream(socket, ownsSocket: false), remote);
    }

    /// <summary>
    /// Connects a stream socket to the first of <paramref name="candidates"/> that accepts, each
    /// within <paramref name="timeout"/>; the last failure is thrown when none does.
    /// </summary>
    internal static async Task<(Socket Socket, EndPoint Remote)> ConnectSocketAsync(EndPoint[] candidates, ProtocolType protocol,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var candidate in candidates)
        {
            var socket = new Socket(candidate.AddressFamily, SocketType.Stream, protocol);
            try
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timer.CancelAfter(timeout);
                await socket.ConnectAsync(candidate, timer.Token);
                if (protocol == ProtocolType.Tcp)
                {
                    socket.NoDelay = true;
                }

                return (socket, candidate);
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

    /// <summary>
    /// Tells the server no more data will come (TLS close_notify, then TCP FIN; a WebSocket close
    /// frame); replies can still be read. Over UDP, reads then end once no reply has come for the reply timeout.
    /// </summary>
    public async ValueTask HalfCloseAsync()
    {
        switch (Stream)
        {
            case DatagramStream datagrams:
                datagrams.CompleteWrites();
                return;
            case WebSocketMessageStream messages:
                await messages.CompleteWritesAsync();
                return;
            case SslStream ssl:
                await ssl.ShutdownAsync();
                break;
        }

        _socket?.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Resets the connection (RST) instead of closing it gracefully.</summary>
    public void Abort()
    {
        if (_socket is null)
        {
            if (Stream is WebSocketMessageStream messages)
            {
                messages.Abort();
            }

            Stream.Dispose();
            return;
        }

        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _socket?.Dispose();
    }
}
