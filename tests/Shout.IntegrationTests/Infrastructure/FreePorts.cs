using System.Net;
using System.Net.Sockets;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Loopback ports the system just handed out, for tools that cannot bind port 0 and report it back
/// (systemd-socket-activate, HAProxy). A port taken again meanwhile makes the tool fail to bind; callers retry.
/// </summary>
internal static class FreePorts
{
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static int Udp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
