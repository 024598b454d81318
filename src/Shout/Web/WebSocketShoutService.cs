using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// <c>/ws</c>: the WebSocket transport's adapter. Its connection was admitted by the session core
/// at accept (<see cref="WebAdmission"/>: a denied client closed unread, one over a limit answered
/// 503, both recorded like a refused TCP client); an admitted socket is one session of the core,
/// served by <see cref="MessageSession"/>: each text message answered with its uppercase as text,
/// each binary message as binary, with the core's idle and write timeouts. Keep-alive pings abort
/// dead peers; invalid UTF-8 in a text message closes with 1007. An upgrade from another site's page
/// (<see cref="OriginCheck"/>) is refused with 403 first, recorded as denied.
/// </summary>
internal sealed class WebSocketShoutService(ShoutWebOptions options, SessionRules rules,
    SessionLifecycle lifecycle, ShoutMetrics metrics, DrainSignal drain, TimeProvider clock, OriginCheck origins,
    RoomWebSocketSession? rooms = null)
{
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

        var transport = context.Request.IsHttps ? TransportKind.Wss : TransportKind.Ws;
        var id = context.Connection.Id;
        var address = context.Connection.RemoteIpAddress;
        var remote = address is null ? "?" : PeerAddress.Describe(new System.Net.IPEndPoint(address, context.Connection.RemotePort));
        if (origins.Refusal(context) is { } crossSite)
        {
            // Before the upgrade: another site's page gets no session (its connection keeps the slot it was admitted with).
            lifecycle.Rejected(id, transport, remote, CloseReason.Denied, crossSite);
            await RefuseAsync(context, StatusCodes.Status403Forbidden, crossSite);
            return;
        }

        // Admitted with its connection (WebAdmission): the session holds the connection's slot, not a second
        // one, and frees it as it records its close; the connection frees it otherwise.
        var ticket = WebAdmission.TakeTicket(context);

        if (Interlocked.Increment(ref _open) > options.MaxWebSockets)
        {
            Interlocked.Decrement(ref _open);
            var message = $"busy: {options.MaxWebSockets.Value} WebSockets are open";
            lifecycle.Rejected(id, transport, remote, CloseReason.Limit, message);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, message);
            return;
        }

        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            });
            await ServeAsync(lifecycle.Open(id, transport, remote, ticket), socket, context.Features.Get<Frames.FrameLimitStream>(),
                context.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private static async Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsync($"ERR {message}\n");
    }

    private async Task ServeAsync(Session session, WebSocket socket, Frames.FrameLimitStream? frames, CancellationToken aborted)
    {
        if (rooms is not null)
        {
            await ServeRoomAsync(session, socket);
            return;
        }

        using var messages = new MessageSession(socket, session, rules.Current, options.MaxMessageBytes, metrics, clock,
            drain.Token);
        frames?.OnExceeded(messages.RefuseOversized);
        var reason = CloseReason.Reset;
        try
        {
            reason = await messages.RunAsync();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            reason = messages.Expired ?? (drain.Token.IsCancellationRequested ? CloseReason.ServerDrain
                : PeerHungUp(e) ? CloseReason.Reset
                : CloseReason.KeepAliveTimeout);
            lifecycle.Failed(session, e.Message);
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
            lifecycle.Close(session, reason);
        }
    }

    /// <summary>Room mode: the socket is a room member (<see cref="RoomWebSocketSession"/>).</summary>
    private async Task ServeRoomAsync(Session session, WebSocket socket)
    {
        var reason = CloseReason.Reset;
        try
        {
            reason = await rooms!.RunAsync(session, socket, rules.Current, drain.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            reason = PeerHungUp(e) ? CloseReason.Reset : CloseReason.ProtocolError;
            lifecycle.Failed(session, e.Message);
        }
        finally
        {
            lifecycle.Close(session, reason);
        }
    }

    private async Task LingerAsync(CancellationToken aborted)
    {
        try
        {
            await Task.Delay(ProtocolErrorLinger, clock, aborted);
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
        // The runtime's own abort (a pong overdue) surfaces as "Aborted", an OperationCanceledException
        // whose inner exceptions are Faulted too; over TLS it comes that way, so it is no refusal.
        if (e is OperationCanceledException)
        {
            return false;
        }

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
    // pong was overdue: this service's aborts are timeouts (Expired) and shutdown is checked first.
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
