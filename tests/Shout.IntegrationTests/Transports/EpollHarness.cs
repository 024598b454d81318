using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.Server;
using Shout.Server.Epoll;

namespace Shout.IntegrationTests.Transports;

/// <summary>The epoll transport on its own (no server around it), for the tests that drive its listener and connections directly.</summary>
internal static class EpollHarness
{
    /// <summary>How long a connect or an accept may take.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public static EpollTransportFactory Factory(ShoutServerOptions? options = null) =>
        new(options ?? new ShoutServerOptions { Transport = StreamTransport.Epoll }, new ListenSockets([], reusePort: false),
            new BlockMemoryPoolFactory(64 * 1024, TimeProvider.System), NullLoggerFactory.Instance);

    public static async Task<Socket> ConnectAsync(EndPoint endpoint)
    {
        var ip = (IPEndPoint)endpoint;
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(ip).WaitAsync(Wait);
        return socket;
    }

    public static async Task<ConnectionContext> AcceptAsync(IConnectionListener listener) =>
        (await listener.AcceptAsync().AsTask().WaitAsync(Wait)) ?? throw new InvalidOperationException("the listener ended");
}
