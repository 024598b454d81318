using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Shout.Server.Tls;

/// <summary>
/// Ends a TLS connection the way TLS says to: a close_notify alert after the last reply. Kestrel's
/// TLS middleware disposes the <c>SslStream</c> without one, so a strict client (ncat, OpenSSL's
/// <c>SSL_read</c>) reports a truncated stream ("Input/output error") although every byte arrived.
/// Runs between the TLS middleware and the handler; the handler has flushed every reply when it
/// returns, and Kestrel's stream adapter writes a flush through to the <c>SslStream</c>.
/// </summary>
internal static class TlsCloseNotify
{
    public static ListenOptions UseTlsCloseNotify(this ListenOptions listen)
    {
        listen.Use(next => async connection =>
        {
            await next(connection);
            if (connection.Features.Get<ISslStreamFeature>()?.SslStream is { } ssl)
            {
                try
                {
                    await ssl.ShutdownAsync();
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionAbortedException)
                {
                    // The peer reset or went away first: there is nobody left to notify.
                }
            }
        });
        return listen;
    }
}
