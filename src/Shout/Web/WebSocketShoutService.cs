using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Diagnostics;
using Shout.Server;

namespace Shout.Web;

/// <summary>
/// <c>/ws</c>: each text message answered with its uppercase as text, each binary message with its
/// uppercase as binary (bytes that are not UTF-8 unchanged, as on every transport). Fragmented
/// messages are joined (up to <see cref="ShoutWebOptions.MaxMessageBytes"/>) and answered whole;
/// invalid UTF-8 in a text message closes with 1007; keep-alive pings abort dead peers; an idle
/// socket is closed by Shout's own timer, since Kestrel's HTTP timeouts stop at the upgrade.
/// </summary>
internal sealed class WebSocketShoutService(ShoutWebOptions options, ShoutMetrics metrics, IConnectionEvents events,
    IHostApplicationLifetime lifetime, TimeProvider time, ILogger<WebSocketShoutService> logger)
{
    public const string Transport = "ws";

    private readonly ShoutWebOptions _options = options;
    private readonly ShoutMetrics _metrics = metrics;
    private readonly IHostApplicationLifetime _lifetime = lifetime;
    private readonly TimeProvider _time = time;

    // How long a connection whose frame was refused stays open so the close frame reaches the client.
    private static readonly TimeSpan ProtocolErrorLinger = TimeSpan.FromSeconds(1);

    private int _open;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected a WebSocket upgrade (GET with Upgrade: websocket)\n");
            return;
        }

        var remote = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        if (Interlocked.Increment(ref _open) > _options.MaxWebSockets)
        {
            Interlocked.Decrement(ref _open);
            _metrics.ConnectionRejected(Transport, CloseReason.Limit);
            events.Rejected(context.Connection.Id, Transport, remote, CloseReason.Limit);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"busy: {_options.MaxWebSockets} WebSockets are open\n");
            return;
        }

        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = _options.KeepAliveInterval,
                KeepAliveTimeout = _options.KeepAliveTimeout,
            });
            await ServeAsync(context.Connection.Id, remote, socket, context.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task ServeAsync(string id, string remote, WebSocket socket, CancellationToken aborted)
    {
        var started = Stopwatch.GetTimestamp();
        _metrics.ConnectionOpened(Transport);
        events.Opened(id, Transport, remote);
        ServerLog.Accepted(logger, id, Transport, remote);
        var session = new WebSocketSession(_options, _metrics, _lifetime, _time, socket, aborted);
        var reason = CloseReason.Reset;
        try
        {
            reason = await session.RunAsync();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            reason = _lifetime.ApplicationStopping.IsCancellationRequested ? CloseReason.ServerDrain
                : PeerHungUp(e) ? CloseReason.Reset
                : CloseReason.KeepAliveTimeout;
            ServerLog.ConnectionError(logger, id, e.Message);
            if (Refused(e))
            {
                // The runtime refused a frame (invalid UTF-8 in text: 1007; a malformed frame: 1002), sent
                // its close frame and aborted. Ending the request at once would reset the connection and
                // could destroy that close frame in the client's buffer; linger briefly so it arrives.
                reason = CloseReason.ProtocolError;
                await LingerAsync(aborted);
            }
        }
        finally
        {
            session.Dispose();
            var elapsed = Stopwatch.GetElapsedTime(started);
            // The event before the count: whoever sees the count drop finds the event already there.
            events.Closed(id, Transport, remote, reason, session.BytesIn, session.BytesOut, elapsed);
            _metrics.ConnectionClosed(Transport, reason, elapsed);
            ServerLog.Closed(logger, id, IConnectionEvents.ClosedByFor(reason), ShoutMetrics.ReasonName(reason),
                session.BytesIn, session.BytesOut, elapsed.TotalMilliseconds, Transport, remote);
        }
    }

    private async Task LingerAsync(CancellationToken aborted)
    {
        try
        {
            await Task.Delay(ProtocolErrorLinger, _time, aborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away first: nothing left to protect.
        }
    }

    // The runtime reports a refused frame as Faulted, wrapped in a cancellation when the socket was
    // aborted meanwhile (the client hanging up right after reading the close frame).
    private static bool Refused(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is WebSocketException { WebSocketErrorCode: WebSocketError.Faulted })
            {
                return true;
            }
        }

        return false;
    }

    // A peer that resets or hangs up without a close frame shows as an I/O error (or the runtime's
    // "closed prematurely"). Every other abort that reaches here is the runtime's own, taken when a
    // pong was overdue: this service's aborts return their reasons, and shutdown is checked first.
    private static bool PeerHungUp(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is IOException or SocketException or WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely })
            {
                return true;
            }
        }

        return false;
    }
}
