using System.Net;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// One peer of the message seam as its transport gives it to a protocol: a WebSocket session, or a
/// UDP source. A message is a WebSocket message or one datagram; the protocol never sees the
/// socket. Sends are made by one writer at a time, in order.
/// </summary>
internal interface IMessagePeer
{
    /// <summary>The peer's session (counted bytes, transport name).</summary>
    Session Session { get; }

    /// <summary>
    /// The address a protocol must confirm before it sends the peer more than
    /// <see cref="AmplificationLimit"/> allows (a UDP source, whose address may be forged); null
    /// when the transport confirmed it (a WebSocket: TCP's handshake did).
    /// </summary>
    SocketAddress? UnconfirmedAddress { get; }

    /// <summary>Most bytes one answer may carry (a datagram's payload); a protocol cuts a longer one at a character boundary.</summary>
    int MaxAnswer { get; }

    /// <summary>Sends one whole message of the protocol's own (a room line); completes when the transport took it (counted there). Throws what the transport throws when the peer is gone.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message);

    /// <summary>
    /// Sends <paramref name="answer"/>, the next part of the answer to <paramref name="received"/>
    /// bytes of the peer's current message, counting both: a fragment of one answer message where
    /// the transport has them (WebSocket, same type as the message), the whole answer where it does
    /// not (UDP: one datagram, only with <paramref name="endOfMessage"/>). The transport applies its
    /// own rules (UDP: withheld past the amplification limit; a refused send taken back).
    /// </summary>
    ValueTask AnswerAsync(int received, ReadOnlyMemory<byte> answer, bool endOfMessage);

    /// <summary>An answer was cut to <see cref="MaxAnswer"/> (<paramref name="sent"/> of it for <paramref name="received"/> bytes): the transport counts and logs it.</summary>
    void AnswerCut(int received, int sent);

    /// <summary>Ends the peer now (a member that could not keep up): the WebSocket is aborted, a UDP source forgotten.</summary>
    void Kick();
}
