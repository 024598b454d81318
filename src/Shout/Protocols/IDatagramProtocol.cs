using System.Net.Sockets;
using System.Net;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Transports.Udp;

namespace Shout.Protocols;

/// <summary>
/// What a datagram from an admitted source does on one UDP socket: the tutorial's echo
/// (<see cref="UdpEcho"/>) or room membership (<see cref="UdpRoomMembers"/>). The receive loop
/// (<see cref="UdpResponder"/>) admits the source as a session of the core and hands the protocol
/// the datagram; it knows no mode. Called by one loop at a time (the receive loop, then the drain).
/// </summary>
internal interface IDatagramProtocol
{
    /// <summary>Handles one datagram of <paramref name="session"/>'s source (the buffer is reused after the call).</summary>
    ValueTask OnDatagramAsync(Session session, SocketAddress source, ReadOnlyMemory<byte> datagram);

    /// <summary>The core ended the source's session (idle, lease, stop).</summary>
    void Ended(Session session);
}

/// <summary>Makes the protocol of each UDP socket (one per mode, chosen when the server is composed).</summary>
internal interface IDatagramProtocolFactory
{
    /// <summary>True when a source's session expires after the UDP lease (a member that must say it is still there).</summary>
    bool Leases { get; }

    /// <summary>The protocol of the socket bound as <paramref name="name"/>.</summary>
    IDatagramProtocol For(Socket socket, string name, SessionSettings settings);
}
