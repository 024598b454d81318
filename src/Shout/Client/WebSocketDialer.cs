using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Shout.Configuration;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>
/// Opens a <see cref="ClientWebSocket"/> the way every other client transport dials: the TCP
/// connect goes through <see cref="ShoutConnection.ConnectSocketAsync"/> (every address a host name
/// resolves to, each within the connect timeout), <c>wss://</c> is verified as <c>tls://</c> is
/// (<see cref="TlsDialer.Accept"/>: verify, pin or insecure), and the runtime's layered exceptions
/// (WebSocketException around HttpRequestException around the cause) come out as the cause itself,
/// which <see cref="ClientErrors"/> turns into one line.
/// </summary>
internal static class WebSocketDialer
{
    public static async Task<(ClientWebSocket Socket, HttpMessageInvoker Invoker, EndPoint Remote)> ConnectAsync(
        ShoutEndpoint endpoint, ShoutClientOptions options, CancellationToken cancellationToken)
    {
        var candidates = await ShoutConnection.IPEndPointsAsync(endpoint, options.Family, cancellationToken);
        EndPoint? remote = null;
        var policyErrors = SslPolicyErrors.None;
        var sawCertificate = false;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var (socket, connected) = await ShoutConnection.ConnectSocketAsync(candidates, ProtocolType.Tcp, options.ConnectTimeout, token);
                remote = connected;
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    policyErrors = errors;
                    sawCertificate = true;
                    return TlsDialer.Accept(certificate, errors, options);
                },
            },
            PooledConnectionLifetime = TimeSpan.Zero,
        };
        var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        // One deadline for the whole dial (every address, then TLS, then the upgrade), beside the per-address connect timeout.
        var limit = TimerSpan.Sum(TimerSpan.Times(options.ConnectTimeout, candidates.Length), options.TlsHandshakeTimeout);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            await socket.ConnectAsync(Uri(endpoint), invoker, deadline.Token);
            return (socket, invoker, remote ?? candidates[0]);
        }
        catch (Exception e)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            invoker.Dispose();
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the WebSocket handshake with {endpoint} did not finish within {limit.TotalSeconds:0.#} s");
            }

            if (endpoint.Secure && !sawCertificate && remote is not null && Has<AuthenticationException>(e) | Has<IOException>(e) && !Has<SocketException>(e))
            {
                throw new AuthenticationException(TlsDialer.NotTls(endpoint), e);
            }

            if (!endpoint.Secure && remote is not null && status == 0
                && Find<HttpRequestException>(e) is { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded } http)
            {
                throw new IOException(http.HttpRequestError == HttpRequestError.InvalidResponse
                    ? $"{endpoint} answered, but not with HTTP: is it a WebSocket server?"
                    : $"{endpoint} closed the connection without an HTTP answer: is it a WebSocket server?", e);
            }

            throw Unwrap(e, endpoint, status, policyErrors, options);
        }
    }

    private static T? Find<T>(Exception? error)
        where T : Exception
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static bool Has<T>(Exception error)
        where T : Exception => Find<T>(error) is not null;

    /// <summary>The URI to request: the endpoint's own text is already <c>ws://HOST:PORT/PATH</c>.</summary>
    public static Uri Uri(ShoutEndpoint endpoint) => new(endpoint.ToString());

    private static Exception Unwrap(Exception error, ShoutEndpoint endpoint, HttpStatusCode status, SslPolicyErrors policyErrors,
        ShoutClientOptions options)
    {
        for (var inner = error; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException or TimeoutException:
                    return inner;
                case AuthenticationException tls:
                    return new AuthenticationException(TlsDialer.Explain(tls, policyErrors, options), tls);
            }
        }

        if (status != 0)
        {
            var hint = status == HttpStatusCode.NotFound ? $" (no WebSocket at {endpoint.Path}; Shout serves it at /ws)" : "";
            return new IOException($"the server answered the WebSocket upgrade with HTTP {(int)status} {status}{hint}", error);
        }

        return error is WebSocketException or HttpRequestException
            ? new IOException($"the WebSocket handshake failed: {error.Message}", error)
            : error;
    }
}
