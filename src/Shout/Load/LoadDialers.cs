using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// The one place that maps a transport to its load-generator adapter. Adding TLS, UDP or
/// WebSocket is one <see cref="ILoadDialer"/> and one case here.
/// </summary>
internal static class LoadDialers
{
    /// <param name="endpoint">The server.</param>
    /// <param name="client">How to dial.</param>
    /// <param name="messageSize">Bytes per bench message: a message transport (WebSocket) sends each as one message.</param>
    /// <param name="cancellationToken">Stops a name lookup.</param>
    public static async Task<ILoadDialer> CreateAsync(ShoutEndpoint endpoint, ShoutClientOptions client, int messageSize,
        CancellationToken cancellationToken) => endpoint.Transport switch
    {
        ShoutTransport.Tcp or ShoutTransport.Unix => await SocketLoadDialer.CreateAsync(endpoint, client.ConnectTimeout, client.Family, cancellationToken),
        ShoutTransport.Tls or ShoutTransport.Udp => new ConnectionLoadDialer(endpoint, client),
        ShoutTransport.WebSocket => new WebSocketLoadDialer(endpoint, client, messageSize),
        _ => throw new NotSupportedException($"{endpoint}: shout bench cannot drive {endpoint.Transport}"),
    };
}
