using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// The one place that maps a transport to its load-generator adapter. Adding TLS, UDP or
/// WebSocket is one <see cref="ILoadDialer"/> and one case here.
/// </summary>
internal static class LoadDialers
{
    public static async Task<ILoadDialer> CreateAsync(ShoutEndpoint endpoint, ShoutClientOptions client, CancellationToken cancellationToken) => endpoint.Transport switch
    {
        ShoutTransport.Tcp or ShoutTransport.Unix => await SocketLoadDialer.CreateAsync(endpoint, client.ConnectTimeout, cancellationToken),
        ShoutTransport.Tls or ShoutTransport.Udp => new ConnectionLoadDialer(endpoint, client),
        _ => throw new NotSupportedException($"{endpoint}: shout bench cannot drive {endpoint.Transport} yet (tcp, unix, tls and udp work)"),
    };
}
