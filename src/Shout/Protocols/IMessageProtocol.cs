using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// One peer's protocol on the message seam (a WebSocket session, a UDP source), whatever carries
/// it: echo (<see cref="EchoMessageProtocol"/>) and a room member (<c>Rooms/RoomMessageMember</c>)
/// each implement it once. The transport's binding receives, times out and drains; it hands the
/// protocol each message as chunks, the last with <c>endOfMessage</c> (a WebSocket message in
/// pieces of a small buffer, so a session holds two small buffers whatever the message size; a
/// datagram as one chunk), and the protocol answers through its <see cref="IMessagePeer"/>. Not
/// thread-safe: one per peer, driven by that peer's loop.
/// </summary>
internal interface IMessageProtocol : IAsyncDisposable
{
    /// <summary>Why the session ended on the protocol's side (a kicked member); null while it goes on.</summary>
    CloseReason? Abandoned { get; }

    /// <summary>
    /// One chunk of the peer's current message, answered as far as it can be. Returns how much of
    /// <paramref name="chunk"/> it consumed (the rest, a character cut at the chunk's end, is offered
    /// again at the front of the next chunk; everything is consumed at the end of a message) and
    /// whether the session goes on, quits or broke the protocol.
    /// </summary>
    ValueTask<FrameResult> ReceiveAsync(ReadOnlyMemory<byte> chunk, bool endOfMessage);

    /// <summary>The session ends with <paramref name="reason"/>: sends what it still owes (a room's goodbye line) and returns the reason it closes with.</summary>
    ValueTask<CloseReason> EndAsync(CloseReason reason);
}

/// <summary>Starts the message protocol of each peer (one per mode, chosen when the server is composed).</summary>
internal interface IMessageProtocolFactory
{
    /// <summary>True when a peer must say it is still there within the UDP lease (a room member).</summary>
    bool Leases { get; }

    /// <summary>
    /// Why the protocol does not serve <paramref name="target"/>, the address asked for after the
    /// transport's own (a room name after <c>/ws/</c>; empty for none), or null when it does. Asked
    /// before the transport accepts the peer (a refused WebSocket target is an HTTP 404 with this reason).
    /// </summary>
    string? Refusal(string target);

    /// <summary>The protocol of <paramref name="peer"/>, whose session is open, asking for <paramref name="target"/> (a <see cref="Refusal"/> accepted).</summary>
    IMessageProtocol Start(IMessagePeer peer, string target, SessionSettings settings);
}
