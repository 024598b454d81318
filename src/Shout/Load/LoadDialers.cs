using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// The one place that maps a transport to its load-generator adapter. Adding TLS, UDP or
/// WebSocket is one <see cref="ILoadDialer"/> and one case here.
/// </summary>
internal static class LoadDialers
{
    public static async Task<ILoadDialer> CreateAsync(ShoutEndpoint endpoint, CancellationToken cancellationToken) => endpoint.Transport switch
    {
        ShoutTransport.Tcp or ShoutTransport.Unix => await SocketLoadDialer.CreateAsync(endpoint, cancellationToken),
        _ => throw new NotSupportedException($"{endpoint}: shout bench cannot drive {endpoint.Transport} yet (tcp:// and unix:// work)"),
    };
}
