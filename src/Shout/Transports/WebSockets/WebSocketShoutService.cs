using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Shout.Protocols;
using Shout.Sessions;
using Shout.Web;

namespace Shout.Transports.WebSockets;

/// <summary>
/// <c>/ws</c>: the WebSocket transport's adapter. Its connection was admitted by the session core
/// at accept (<see cref="WebAdmission"/>: a denied client closed unread, one over a limit answered
/// 503, both recorded like a refused TCP client); an upgrade from another site's page
/// (<see cref="OriginCheck"/>) is refused with 403 first, recorded as denied. An accepted socket is
/// one session of the core, run by <see cref="SessionRunner"/> as a <see cref="WebSocketPeer"/> that
/// drives the mode's <see cref="IProtocol"/> (echo or a room member); this adapter knows no mode.
/// </summary>
internal sealed class WebSocketShoutService(ShoutWebOptions options, SessionRules rules, SessionRunner runner,
    OriginCheck origins, IProtocolFactory protocols, ShoutMetrics metrics, TimeProvider clock, DrainSignal drain)
{
    private int _open;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected a WebSocket upgrade (GET with Upgrade: websocket)\n");
            return;
        }

        // /ws/ROOM: the rest of the path is the protocol's to accept (a room) or refuse, before any upgrade.
        var target = context.Request.RouteValues.TryGetValue("target", out var value) && value is string named ? named : "";
        if (protocols.Refusal(target) is { } unserved)
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, unserved);
            return;
        }

        var transport = context.Request.IsHttps ? TransportKind.Wss : TransportKind.Ws;
        var id = context.Connection.Id;
        var address = context.Connection.RemoteIpAddress;
        var remote = address is null ? "?" : PeerAddress.Describe(new System.Net.IPEndPoint(address, context.Connection.RemotePort));
        if (origins.Refusal(context) is { } crossSite)
        {
            // Before the upgrade: another site's page gets no session (its connection keeps the slot it was admitted with).
            runner.Rejected(id, transport, remote, CloseReason.Denied, crossSite);
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
            runner.Rejected(id, transport, remote, CloseReason.Limit, message);
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
            using var peer = new WebSocketPeer(socket, protocols, target, rules.Current, options.MaxMessageBytes, metrics, clock, drain,
                context.Features.Get<FrameLimitStream>(), context.RequestAborted);
            await runner.RunAsync(id, transport, remote, ticket, peer);
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
}
