using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode's protocol factory (registered in room mode only), one for every seam: a stream peer
/// becomes a <see cref="RoomStreamMember"/> of the default room; a message peer whose address is
/// confirmed (a WebSocket) enters its room at once as a <see cref="RoomMessageMember"/>; one whose
/// address is not (a UDP source) first confirms it (<see cref="RoomAddressGate"/>).
/// </summary>
internal sealed class RoomProtocols(RoomHub hub, ShoutRoomOptions rooms, int maxLineLength, TimeProvider clock) : IProtocolFactory
{
    private readonly UdpAddressToken _tokens = new(clock);
    private readonly LineFramer _framer = new(maxLineLength);

    /// <summary>A UDP member says it is still there within the lease.</summary>
    public bool Leases => true;

    /// <summary><c>/ws</c> joins the default room; <c>/ws/ROOM</c> joins ROOM (a room name: <see cref="RoomNames.Rule"/>).</summary>
    public string? Refusal(string target) =>
        target.Length == 0 || RoomNames.IsValid(target) ? null : $"/ws/{target}: not a room name ({RoomNames.Rule})";

    public IProtocol Start(IPeer peer, string target, SessionSettings settings)
    {
        if (peer.Seam == PeerSeam.Stream)
        {
            return new RoomStreamMember(hub, _framer, rooms, peer, settings, clock);
        }

        if (peer.UnconfirmedAddress is not null)
        {
            return new RoomAddressGate(hub, rooms, _framer, settings, clock, _tokens, peer);
        }

        var member = new RoomMessageMember(hub, rooms, _framer, settings.WriteTimeout, clock, peer, settings.IdleTimeout);
        member.Enter(target.Length == 0 ? null : target);
        return member;
    }
}
