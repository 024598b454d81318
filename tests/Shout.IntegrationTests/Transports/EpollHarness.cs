using System.Net.Sockets;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.Transports.Epoll;
using Shout.Transports;

namespace Shout.IntegrationTests.Transports;

/// <summary>The epoll transport on its own (no server around it), for the tests that drive its listener and connections directly.</summary>
internal static class EpollHarness
{
    /// <summary>How long a connect or an accept may take.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    /// <summary>The transport as the server makes it for stream mode (64 KiB of input), with default socket settings unless given.</summary>
    public static EpollTransportFactory Factory(SocketTuning? tuning = null) =>
        new(tuning ?? new SocketTuning(), 64 * 1024, new ListenSockets([], reusePort: false),
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
