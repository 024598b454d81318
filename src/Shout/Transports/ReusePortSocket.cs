using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Shout.Transports;

/// <summary>
/// Binds TCP listen sockets with SO_REUSEPORT, so several Shout processes can listen on one port and
/// the kernel spreads new connections over them (by a hash of the client's address and port).
/// Every process sharing the port must set it, as the same user.
/// </summary>
internal static class ReusePortSocket
{
    // From <asm-generic/socket.h>; .NET has no named option for SO_REUSEPORT.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    public static Socket CreateBound(EndPoint endPoint)
    {
        if (endPoint is not IPEndPoint ip || !OperatingSystem.IsLinux())
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
