using System.Buffers;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// The one protocol contract of both seams: echo, line and a room member each implement it and own
/// their framing and every reply they make (answers, the drain notice, what a timeout says, limits,
/// a room's goodbye). The seam that drives it (the stream loop over TCP, TLS and Unix; a WebSocket
/// session; a UDP source) receives, times out and drains; it hands the protocol what arrived and
/// what interrupted it, and the protocol answers through its <see cref="IPeer"/>, never the socket.
/// Not thread-safe: one per session, driven by that session's loop (a room member's writer runs beside it).
/// </summary>
internal interface IProtocol : ISessionEnding
{
    /// <summary>Most input bytes one turn of the stream seam offers (a protocol that needs whole lines says how long one may be); the message seam's chunks are bounded by their transport.</summary>
    long MaxTurnInput { get; }

    /// <summary>Why the session ended on the protocol's side while the seam waited (a member kicked for not reading); null while it goes on.</summary>
    CloseReason? Abandoned { get; }

    /// <summary>
    /// Answers what can be answered of <paramref name="input"/> and returns how much of it was used
    /// (the rest, part of a line or of a character, is offered again at the front of the next input)
    /// and whether the session goes on. <paramref name="end"/>: no more of this input comes (on a
    /// stream the peer half-closed or the server drains; on the message seam the message is whole),
    /// so all of it must be answered. <paramref name="draining"/>: the server drains a stream, so
    /// after the answers the protocol tells the client (if it goes on).
    /// <see cref="FrameAction.Gone"/> when the peer takes no more answers.
    /// </summary>
    ValueTask<FrameResult> ReceiveAsync(ReadOnlySequence<byte> input, bool end, bool draining);

    /// <summary>The line or idle timeout interrupted the stream seam's read: what the protocol says before the session closes (may be nothing).</summary>
    ValueTask TimedOutAsync(CloseReason expired);

}

/// <summary>Starts the protocol of each peer, on either seam: one per mode, chosen when the server is composed.</summary>
internal interface IProtocolFactory
{
    /// <summary>True when a peer without a connection must say it is still there within the UDP lease (a room member).</summary>
    bool Leases { get; }

    /// <summary>
    /// Why the protocol does not serve <paramref name="target"/>, the address asked for after the
    /// transport's own (a room name after <c>/ws/</c>; empty for none), or null when it does. Asked
    /// before the transport accepts the peer (a refused WebSocket target is an HTTP 404 with this reason).
    /// </summary>
    string? Refusal(string target);

    /// <summary>The protocol of <paramref name="peer"/>, whose session is open, asking for <paramref name="target"/> (a <see cref="Refusal"/> accepted; empty on a stream).</summary>
    IProtocol Start(IPeer peer, string target, SessionSettings settings);
}
