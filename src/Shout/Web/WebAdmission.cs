using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// The web port as a transport of the session core: every TCP connection to it (the page, assets,
/// <c>/metrics</c>, <c>/live</c>, <c>/healthz</c>, <c>/reload</c>, <c>/ws</c>; HTTP and HTTPS) is
/// admitted at accept, before TLS and before a byte is read, by the same
/// <see cref="SessionAdmission"/> as a stream connection, and holds one slot until it closes. A
/// denied client is closed unread. A client over a limit is answered <c>503</c> with the
/// <c>ERR</c> line on its first request, then closed; at most <see cref="MaxAnswering"/> such answers
/// are pending at once, and beyond that the connection is closed unread, so a flood over the limit
/// holds no more descriptors than that. A WebSocket upgraded on an HTTP/1.1 connection takes the
/// connection's slot as its session's: one slot per TCP connection, never two. Refusals are recorded
/// as <c>ws</c>/<c>wss</c>, the web port's transport. Thread-safe; one per web listener.
/// </summary>
internal sealed class WebAdmission(SessionAdmission admission, TransportKind transport)
{
    /// <summary>Most over-limit connections waiting at once for their first request to answer it 503.</summary>
    public const int MaxAnswering = 32;

    private static readonly object TicketKey = new();
    private static readonly object RefusalKey = new();

    private int _answering;

    /// <summary>Kestrel connection middleware for the web listener, first in its chain.</summary>
    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        using var ticket = admission.TryAdmit(connection.ConnectionId, transport, PeerAddress.Of(connection.RemoteEndPoint),
            PeerAddress.Describe(connection.RemoteEndPoint), out var refusal);
        if (ticket is not null)
        {
            connection.Items[TicketKey] = ticket;
            await next(connection);
            return;
        }

        // Denied: closed before anything is read. Over a limit: told why over HTTP, while few wait for that.
        if (refusal.Reason == CloseReason.Denied || Interlocked.Increment(ref _answering) > MaxAnswering)
        {
            if (refusal.Reason != CloseReason.Denied)
            {
                Interlocked.Decrement(ref _answering);
            }

            return;
        }

        try
        {
            connection.Items[RefusalKey] = refusal.Message;
            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _answering);
        }
    };

    /// <summary>
    /// HTTP middleware, first in the pipeline: a connection refused for a limit gets <c>503</c> and
    /// <c>ERR …</c> for its request, and is closed after it.
    /// </summary>
    public static Task AnswerRefusedAsync(HttpContext context, RequestDelegate next)
    {
        if (Items(context)?.TryGetValue(RefusalKey, out var message) != true)
        {
            return next(context);
        }

        context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers[HeaderNames.Connection] = "close";
        }

        return context.Response.WriteAsync($"ERR {message}\n", context.RequestAborted);
    }

    /// <summary>
    /// The slot of the connection <paramref name="context"/> arrived on, for a WebSocket session to
    /// hold and free as it closes; null on HTTP/2, where the connection carries other streams and
    /// keeps its slot.
    /// </summary>
    public static SessionAdmission.Ticket? TakeTicket(HttpContext context) =>
        (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        && Items(context)?.TryGetValue(TicketKey, out var ticket) == true ? ticket as SessionAdmission.Ticket : null;

    private static IDictionary<object, object?>? Items(HttpContext context) => context.Features.Get<IConnectionItemsFeature>()?.Items;
}
