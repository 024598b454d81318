using System.Buffers;
using System.Net;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>How a peer's input comes: as a byte stream (TCP, TLS, Unix) or as messages (a WebSocket message, a datagram).</summary>
internal enum PeerSeam
{
    /// <summary>A byte stream: lines are framed by the protocol, answers are bytes in order.</summary>
    Stream,

    /// <summary>Messages: each is whole (a room line), and an answer is a message of its own.</summary>
    Message,
}

/// <summary>
/// One peer as its transport gives it to an <see cref="IProtocol"/>: a stream connection, a
/// WebSocket session or a UDP source. The protocol writes its answer into <see cref="Answer"/> and
/// hands it over with <see cref="AnswerAsync"/>; it never sees the socket. Answers are sent by the
/// protocol's loop, lines of its own (<see cref="SendLinesAsync"/>) by one writer beside it.
/// </summary>
internal interface IPeer
{
    /// <summary>The peer's session (counted bytes, transport name).</summary>
    Session Session { get; }

    /// <summary>Whether input comes as a stream or as messages.</summary>
    PeerSeam Seam { get; }

    /// <summary>
    /// The address a protocol must confirm before it sends the peer more than
    /// <see cref="AmplificationLimit"/> allows (a UDP source, whose address may be forged); null
    /// when the transport confirmed it (TCP's handshake did).
    /// </summary>
    SocketAddress? UnconfirmedAddress { get; }

    /// <summary>Where the protocol writes the next part of its answer; handed over by <see cref="AnswerAsync"/>.</summary>
    IBufferWriter<byte> Answer { get; }

    /// <summary>
    /// Sends what <see cref="Answer"/> holds as the next part of the answer to <paramref name="received"/>
    /// bytes of input, counting both (nothing is sent for nothing, unless <paramref name="endOfMessage"/>
    /// ends an answer message). On a stream the bytes go in order within the write timeout; a WebSocket
    /// sends a fragment of the answer message (of the message's type); UDP sends one datagram, only
    /// with <paramref name="endOfMessage"/>, cut to what a datagram carries and withheld past the
    /// amplification limit. False when the peer takes no more (its side closed, the write timed out).
    /// </summary>
    ValueTask<bool> AnswerAsync(long received, bool endOfMessage);

    /// <summary>
    /// Sends whole lines of the protocol's own (a room's, each with its terminator), counted, in order
    /// and without the write timeout (the caller's policy governs a peer that does not read); the
    /// peer counts as active. On a stream the bytes as they are, held while <paramref name="more"/>
    /// says more follow at once; on the message seam one text message per line, without its terminator.
    /// False when the peer takes no more; throws what the transport throws when the peer is gone.
    /// </summary>
    ValueTask<bool> SendLinesAsync(ReadOnlyMemory<byte> lines, bool more);

    /// <summary>Ends the peer now (a member that could not keep up): the connection is aborted, a UDP source forgotten.</summary>
    void Kick();
}
