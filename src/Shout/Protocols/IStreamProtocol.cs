using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// One session's protocol on the stream seam (TCP, TLS, Unix, on either stream transport): echo-stream,
/// line and room each implement it and own their framing and every reply they make (answers, the
/// drain notice, what a timeout says, limits). The stream loop (<c>Server/ShoutConnectionHandler</c>)
/// drives it without knowing which protocol it is: it reads, tells the protocol what arrived and
/// what interrupted the read, and maps how the session ended to one <see cref="CloseReason"/>.
/// Not thread-safe: one per session, driven by that session's loop.
/// </summary>
internal interface IStreamProtocol : IAsyncDisposable
{
    /// <summary>Most input bytes one turn offers <see cref="ProcessAsync"/> (a protocol that needs whole lines says how long one may be).</summary>
    long MaxTurnInput { get; }

    /// <summary>Why the session ended on the protocol's side while the loop waited (e.g. a room member kicked for not reading); null while it goes on.</summary>
    CloseReason? Abandoned { get; }

    /// <summary>
    /// Answers what can be answered of <paramref name="input"/> and sends it. <paramref name="final"/>:
    /// no more input will be offered (the peer half-closed, or the server drains), so everything must
    /// be answered; <paramref name="draining"/>: the server drains, so after the answers the protocol
    /// tells the client (if it goes on). <see cref="FrameAction.Gone"/> when the client takes no more replies.
    /// </summary>
    ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool final, bool draining);

    /// <summary>The line or idle timeout interrupted the read: what the protocol says before the session closes (may be nothing).</summary>
    ValueTask TimedOutAsync(CloseReason expired);

    /// <summary>The loop ended with <paramref name="reason"/>: sends what is still owed; returns the reason the session closes with.</summary>
    ValueTask<CloseReason> EndAsync(CloseReason reason);
}

/// <summary>Starts a stream protocol for each session (one per mode, chosen when the server is composed).</summary>
internal interface IStreamProtocolFactory
{
    /// <summary>
    /// The protocol of one opened session. It answers through the connection's output, bounded by
    /// the session's <paramref name="timeouts"/> (a flush waiting on a client that does not read
    /// meets the write timeout), and counts what it sends in <paramref name="session"/>.
    /// </summary>
    IStreamProtocol Start(ConnectionContext connection, SessionTimeouts timeouts, Session session, SessionSettings settings);
}
