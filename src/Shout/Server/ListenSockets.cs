using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Shout.Server.Systemd;

namespace Shout.Server;

/// <summary>
/// Makes every listen socket Kestrel asks for (its <c>CreateBoundListenSocket</c> hook) and keeps the
/// ones a stop must treat with care: sockets passed by systemd (the listener is shared with the
/// process that holds it) and SO_REUSEPORT sockets (the listener is one of a group). Thread-safe.
/// </summary>
internal sealed class ListenSockets(IReadOnlyList<InheritedSocket> inherited, bool reusePort)
{
    private readonly Lock _gate = new();
    private readonly List<Socket> _held = [];
    private readonly List<Socket> _grouped = [];

    /// <summary>The passed sockets Kestrel listens on, to be released (not shut down) at stop.</summary>
    public IReadOnlyList<Socket> Held
    {
        get
        {
            lock (_gate)
            {
                return [.. _held];
            }
        }
    }

    /// <summary>The SO_REUSEPORT listeners, to leave their group before they close.</summary>
    public IReadOnlyList<Socket> Grouped
    {
        get
        {
            lock (_gate)
            {
                return [.. _grouped];
            }
        }
    }

    public Socket Create(EndPoint endPoint)
    {
        if (endPoint is FileHandleEndPoint handle && inherited.FirstOrDefault(s => (ulong)s.Fd == handle.FileHandle) is { } passed)
        {
            lock (_gate)
            {
                _held.Add(passed.Socket);
            }

            return passed.Socket;
        }

        if (reusePort && endPoint is IPEndPoint)
        {
            var socket = ReusePortSocket.CreateBound(endPoint);
            lock (_gate)
            {
                _grouped.Add(socket);
            }

            return socket;
        }

        return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
    }
}
