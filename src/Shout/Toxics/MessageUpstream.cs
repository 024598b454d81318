using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Shout.Toxics;

/// <summary>
/// A ws proxy's connection to its upstream: a <see cref="ClientWebSocket"/> whose TCP socket the
/// proxy opens itself (so reset_peer and a client's reset can reset it with linger 0, and every
/// address a name resolves to is tried as for a stream proxy), TLS for wss:// checked against
/// <c>--upstream-ca</c> or the system's roots. The whole handshake is bounded by
/// <see cref="ToxicProxy.ConnectTimeout"/>.
/// </summary>
internal sealed class MessageUpstream : IDisposable
{
    private readonly SocketsHttpHandler _handler;

    private MessageUpstream(ClientWebSocket socket, Socket raw, SocketsHttpHandler handler)
    {
        WebSocket = socket;
        Raw = raw;
        _handler = handler;
    }

    public ClientWebSocket WebSocket { get; }

    /// <summary>The TCP socket under it.</summary>
    public Socket Raw { get; }

    /// <summary>
    /// Opens the upstream WebSocket for a client's request; the upstream, or null with the status to
    /// refuse the client with (the upstream's own refusal, 502 when it could not be reached, 504
    /// when it did not answer in time) and the reason.
    /// </summary>
    public static async Task<(MessageUpstream? Upstream, int Status, string Reason)> ConnectAsync(ProxyAddress upstream, Uri uri,
        MessageHandshake.Request request, ProxyTls tls, TimeSpan keepAlive, CancellationToken stop)
    {
        Socket? raw = null;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                raw = await DialAsync(upstream, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(raw, ownsSocket: true);
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsBridge.Trusted(certificate, errors, tls.UpstreamTrust);
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = keepAlive;
        socket.Options.KeepAliveTimeout = keepAlive;
        if (request.Origin is { } origin)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        foreach (var protocol in request.Protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ToxicProxy.ConnectTimeout);
        try
        {
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
            await socket.ConnectAsync(uri, invoker, timeout.Token).ConfigureAwait(false);
            return (new MessageUpstream(socket, raw!, handler), 0, "");
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException or SocketException or IOException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            handler.Dispose();
            if (status is not (0 or HttpStatusCode.SwitchingProtocols))
            {
                return (null, (int)status, $"upstream {upstream} answered {(int)status}");
            }

            var reason = e is OperationCanceledException ? "no answer in time" : (e.InnerException ?? e).Message;
            return (null, e is OperationCanceledException ? 504 : 502, $"upstream {upstream}: {reason}");
        }
    }

    public void Dispose()
    {
        WebSocket.Dispose();
        Raw.Dispose();
        _handler.Dispose();
    }

    private static async Task<Socket> DialAsync(ProxyAddress upstream, CancellationToken cancellationToken)
    {
        SocketException? last = null;
        foreach (var endPoint in await upstream.ResolveAsync(cancellationToken).ConfigureAwait(false))
        {
            var socket = upstream.NewSocket(endPoint);
            try
            {
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e)
            {
                last = e;
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}
