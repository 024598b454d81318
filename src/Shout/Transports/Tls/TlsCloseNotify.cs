using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Shout.Transports.Tls;

/// <summary>
/// Ends a TLS connection the way TLS says to: a close_notify alert after the last reply. Kestrel's
/// TLS middleware disposes the <c>SslStream</c> without one, so a strict client (ncat, OpenSSL's
/// <c>SSL_read</c>) reports a truncated stream ("Input/output error") although every byte arrived.
/// Sent once per connection, by whichever comes first: the server-first close
/// (<c>GracefulClose</c>, which must send it before its FIN) or, for every other end, the middleware
/// between the TLS middleware and the handler, after the handler has flushed every reply (Kestrel's
/// stream adapter writes a flush through to the <c>SslStream</c>).
/// </summary>
internal static class TlsCloseNotify
{
    public static ListenOptions UseTlsCloseNotify(this ListenOptions listen)
    {
        listen.Use(next => async connection =>
        {
            await next(connection);
            try
            {
                await SendAsync(connection);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionAbortedException)
            {
                // The peer reset or went away first: there is nobody left to notify.
            }
        });
        return listen;
    }

    /// <summary>Sends close_notify on <paramref name="connection"/> unless it was sent already (or the connection is not TLS).</summary>
    public static Task SendAsync(ConnectionContext connection)
    {
        if (connection.Features.Get<ISslStreamFeature>()?.SslStream is not { } ssl || connection.Features.Get<Sent>() is not null)
        {
            return Task.CompletedTask;
        }

        connection.Features.Set(Sent.Instance);
        return ssl.ShutdownAsync();
    }

    /// <summary>Marks a connection whose close_notify has gone out.</summary>
    private sealed class Sent
    {
        public static readonly Sent Instance = new();
    }
}
