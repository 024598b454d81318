using Microsoft.AspNetCore.Connections;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Streams;

/// <summary>
/// The stream seam's entry: every stream transport (TCP, TLS, Unix, on either stream transport)
/// hands it an admitted connection. It arms the session's timers, then has the one owner of every
/// session's life, <see cref="SessionRunner"/>, open the session and drive its loop
/// (<see cref="StreamPeer"/>: the connection as the protocol's peer and as the loop), which starts
/// the mode's <see cref="IProtocol"/>. It knows no protocol.
/// </summary>
internal sealed class ShoutConnectionHandler(IProtocolFactory protocols, SessionRules rules, SessionRunner runner,
    ShoutMetrics metrics, TimeProvider clock, DrainSignal drain)
{
    /// <summary>The mode's protocols.</summary>
    internal IProtocolFactory Protocols => protocols;

    /// <summary>The owner of every session's life.</summary>
    internal SessionRunner Runner => runner;

    /// <summary>The server's one drain list.</summary>
    internal DrainSignal Drain => drain;

    /// <summary>The time of timeouts and closes.</summary>
    internal TimeProvider Clock => clock;

    /// <summary>Serves one admitted connection of <paramref name="transport"/> until it ends.</summary>
    public Task OnConnectedAsync(ConnectionContext connection, TransportKind transport)
    {
        var settings = rules.Current;
        var peer = new StreamPeer(connection, connection.Transport.Input, this, transport, settings);

        // The timers are armed before the session is counted: whoever sees it open sees its idle clock running.
        peer.Arm(new SessionTimeouts(settings, clock, metrics, peer));
        return runner.RunAsync(connection.ConnectionId, transport, PeerAddress.Describe(connection.RemoteEndPoint),
            connection.Features.Get<SessionAdmission.Ticket>(), peer);
    }
}
