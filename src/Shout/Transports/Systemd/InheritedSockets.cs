using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;
using Shout.Sessions;

namespace Shout.Transports.Systemd;

/// <summary>
/// Sockets passed by systemd socket activation (sd_listen_fds(3)): <c>LISTEN_PID</c> names this
/// process, <c>LISTEN_FDS</c> counts descriptors from 3, <c>LISTEN_FDNAMES</c> (colon-separated)
/// names them. Each descriptor's kind is read from the socket itself: a listening TCP stream socket
/// is served as <c>tcp://</c> (or <c>tls://</c> when its name starts with <c>tls</c>), a listening
/// Unix stream socket as <c>unix://</c>, an IP datagram socket as <c>udp://</c>.
/// </summary>
internal static class InheritedSockets
{
    /// <summary>The first passed descriptor (SD_LISTEN_FDS_START).</summary>
    private const int FirstFd = 3;

    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;

    /// <summary>
    /// The sockets passed to this process; empty when none were. The variables are removed so that
    /// a child process does not take them for its own.
    /// </summary>
    /// <exception cref="FormatException">A variable is malformed or a descriptor is not a socket Shout serves; the message names it.</exception>
    public static IReadOnlyList<InheritedSocket> FromEnvironment()
    {
        var pidText = Environment.GetEnvironmentVariable("LISTEN_PID");
        var countText = Environment.GetEnvironmentVariable("LISTEN_FDS");
        var namesText = Environment.GetEnvironmentVariable("LISTEN_FDNAMES");
        if (countText is null)
        {
            return [];
        }

        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);

        // Variables meant for another process (a parent that did not unset them) are not ours.
        if (pidText is not null && (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid != Environment.ProcessId))
        {
            return [];
        }

        if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 0 or > 4096)
        {
            throw new FormatException($"LISTEN_FDS='{countText}' is not a count of passed sockets");
        }

        var names = namesText?.Split(':') ?? [];
        var sockets = new List<InheritedSocket>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                sockets.Add(Adopt(FirstFd + i, i < names.Length ? names[i] : ""));
            }
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Socket.Dispose();
            }

            throw;
        }

        return sockets;
    }

    private static InheritedSocket Adopt(int fd, string name)
    {
        var label = name.Length > 0 ? $"passed socket {fd} ({name})" : $"passed socket {fd}";
        Socket socket;
        try
        {
            // Owned: closing it closes this process's descriptor only. The descriptor keeps the
            // FD_CLOEXEC flag it was passed without (as systemd passes it); .NET then knows it may be
            // shared and closes it without the shutdown that would stop the listener for everyone.
            socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        }
        catch (SocketException e)
        {
            throw new FormatException($"{label} is not a socket: {e.Message}", e);
        }

        try
        {
            return new InheritedSocket(fd, name, Describe(socket, name, label), socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static ShoutEndpoint Describe(Socket socket, string name, string label)
    {
        var listening = socket.SocketType == SocketType.Stream && IsListening(socket);
        switch (socket.SocketType, socket.LocalEndPoint)
        {
            case (SocketType.Stream, IPEndPoint ip) when listening:
                return ShoutEndpoint.For(name.StartsWith("tls", StringComparison.OrdinalIgnoreCase) ? ShoutTransport.Tls : ShoutTransport.Tcp, Plain(ip));
            case (SocketType.Stream, UnixDomainSocketEndPoint unix) when listening:
                return ShoutEndpoint.ForUnix(unix.ToString());
            case (SocketType.Dgram, IPEndPoint ip):
                return ShoutEndpoint.For(ShoutTransport.Udp, Plain(ip));
            case (SocketType.Stream, IPEndPoint or UnixDomainSocketEndPoint):
                throw new FormatException($"{label} is a stream socket that is not listening (socket units need Accept=no)");
            default:
                throw new FormatException($"{label} is a {socket.SocketType} {socket.AddressFamily} socket; "
                    + "shout serves listening TCP and Unix stream sockets and UDP sockets");
        }
    }

    private static bool IsListening(Socket socket)
    {
        var value = new byte[4];
        return socket.GetRawSocketOption(SolSocket, SoAcceptConn, value) == 4 && BitConverter.ToInt32(value) != 0;
    }

    /// <summary>An IPv4 client of a dual-stack socket reads better as IPv4.</summary>
    private static IPEndPoint Plain(IPEndPoint ip) =>
        ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(PeerAddress.Normalize(ip.Address), ip.Port) : ip;
}

/// <summary>One passed socket: its descriptor, its name in <c>LISTEN_FDNAMES</c>, what it serves, and the adopted <see cref="System.Net.Sockets.Socket"/>.</summary>
internal sealed record InheritedSocket(int Fd, string Name, ShoutEndpoint Endpoint, Socket Socket);
