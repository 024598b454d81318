using System.Net.Sockets;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Shout.Transports.Systemd;

namespace Shout.Transports;

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
    private readonly Dictionary<Socket, Action> _beforeRelease = [];

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

    /// <summary>Runs <paramref name="detach"/> when <see cref="Release"/> lets <paramref name="socket"/> go (a transport watching it stops first).</summary>
    public void BeforeRelease(Socket socket, Action detach)
    {
        lock (_gate)
        {
            _beforeRelease[socket] = detach;
        }
    }

    /// <summary>Closes this process's descriptor of a passed socket; the holder's stays open and keeps queueing for the next instance.</summary>
    public void Release(Socket socket)
    {
        Action? detach;
        lock (_gate)
        {
            _beforeRelease.Remove(socket, out detach);
        }

        detach?.Invoke();
        socket.Dispose();
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
