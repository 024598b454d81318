using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>
/// A ws proxy's accepted connection, up to its <see cref="MessageConnection"/>: TLS (wss://, the
/// proxy's certificate), the client's upgrade request, the upstream's WebSocket for the same path
/// past the listen path, then 101 to the client. A refusal is the upstream's own (its status) or
/// 502/504 when it cannot be reached, so a client's handshake fails at once instead of hanging.
/// </summary>
internal static class MessageProxying
{
    /// <summary>How often each side of a ws proxy connection is pinged when idle, and how long a pong may take (as the Shout server's).</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static async Task ServeAsync(Socket client, ToxicProxy proxy, ProxyTls tls, ToxicRandom random, ILogger log,
        ConcurrentDictionary<IProxiedConnection, byte> connections, CancellationToken stop)
    {
        Stream stream = new NetworkStream(client, ownsSocket: false);
        MessageUpstream? upstream = null;
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                handshake.CancelAfter(TlsBridge.HandshakeTimeout);
                if (proxy.Listen.Endpoint.Secure)
                {
                    var secure = new SslStream(stream);
                    stream = secure;
                    await secure.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = tls.Certificate,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    }, handshake.Token).ConfigureAwait(false);
                }

                var (request, status, error) = await MessageHandshake.ReadAsync(stream, handshake.Token).ConfigureAwait(false);
                if (request is { Target: var target } && MessageHandshake.PastPath(proxy.Listen.Endpoint.Path, target) is null)
                {
                    (request, status, error) = (null, 404, $"{target.Split('?')[0]} is not under {proxy.Listen.Endpoint.Path}");
                }

                if (request is null)
                {
                    await RefuseAsync(client, stream, status, error).ConfigureAwait(false);
                    return;
                }

                Uri uri;
                try
                {
                    uri = proxy.Upstream.WebSocketUri(MessageHandshake.PastPath(proxy.Listen.Endpoint.Path, request.Target)!);
                }
                catch (UriFormatException)
                {
                    await RefuseAsync(client, stream, 400, "the request's path is not a valid URI path").ConfigureAwait(false);
                    return;
                }

                (upstream, status, error) = await MessageUpstream.ConnectAsync(proxy.Upstream, uri, request, tls, KeepAlive, stop).ConfigureAwait(false);
                if (upstream is null)
                {
                    ToxicProxyLog.UpgradeRefused(log, proxy.Name, error, status);
                    await RefuseAsync(client, stream, status, error).ConfigureAwait(false);
                    return;
                }

                await MessageHandshake.AcceptAsync(stream, request, upstream.WebSocket.SubProtocol, handshake.Token).ConfigureAwait(false);
            }

            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                SubProtocol = upstream.WebSocket.SubProtocol,
                KeepAliveInterval = KeepAlive,
                KeepAliveTimeout = KeepAlive,
            });
            using var connection = new MessageConnection(client, socket, upstream, proxy.Toxics, random);
            upstream = null; // the connection owns it now
            connections[connection] = 0;
            try
            {
                if (stop.IsCancellationRequested)
                {
                    connection.Abort();
                }

                await connection.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                connections.TryRemove(connection, out _);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
            or System.Security.Authentication.AuthenticationException)
        {
            // A failed TLS handshake, a client gone or too slow before its upgrade: reset, nothing dialed or kept.
            upstream?.Dispose();
            ProxyConnection.Reset(client);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
        }
    }

    private static async Task RefuseAsync(Socket client, Stream stream, int status, string reason)
    {
        if (status == 0)
        {
            // The client went before it asked: nothing to answer.
            return;
        }

        using var timeout = new CancellationTokenSource(TlsBridge.HandshakeTimeout);
        await MessageHandshake.RefuseAsync(stream, status, reason, timeout.Token).ConfigureAwait(false);
        if (stream is SslStream secure)
        {
            await secure.ShutdownAsync().ConfigureAwait(false);
        }

        client.Shutdown(SocketShutdown.Send);
    }
}
