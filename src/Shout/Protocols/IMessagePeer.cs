using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// One peer of the message seam as its transport gives it to a protocol: a WebSocket session, or a
/// UDP source. A message is a WebSocket text message or one datagram; the protocol never sees the
/// socket. Sends are made by one writer at a time, in order.
/// </summary>
internal interface IMessagePeer
{
    /// <summary>The peer's session (counted bytes, transport name).</summary>
    Session Session { get; }

    /// <summary>Sends one message; completes when the transport took it (counted there). Throws what the transport throws when the peer is gone.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message);

    /// <summary>Ends the peer now (a member that could not keep up): the WebSocket is aborted, a UDP source forgotten.</summary>
    void Kick();
}
