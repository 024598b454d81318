using System.Buffers;

namespace Shout.Protocols.Framing;

/// <summary>What a connection should do after a framer has processed its input.</summary>
internal enum FrameAction
{
    /// <summary>Keep reading.</summary>
    Continue,

    /// <summary>The client said <c>quit</c>: the answer is written, close gracefully.</summary>
    Quit,

    /// <summary>The client broke the protocol (e.g. a line too long): the error is written, close.</summary>
    ProtocolError,

    /// <summary>The client takes no more replies (its side closed, or a write timed out): close without a goodbye.</summary>
    Gone,
}

/// <summary>The outcome of one <see cref="IShoutFramer.Process"/> call.</summary>
/// <param name="Consumed">Input bytes answered; the rest must be offered again with more data.</param>
/// <param name="Action">What the connection does next.</param>
internal readonly record struct FrameResult(long Consumed, FrameAction Action);

/// <summary>
/// Turns received bytes into answers. Implementations are pure (no I/O) and stateless, so one
/// instance serves every connection of every transport concurrently.
/// </summary>
internal interface IShoutFramer
{
    /// <summary>Answers what can be answered of <paramref name="input"/>.</summary>
    /// <param name="input">Everything received and not yet consumed.</param>
    /// <param name="output">Where answers are written.</param>
    /// <param name="isCompleted">True when no more input will come (peer half-closed or the server drains):
    /// everything left must then be answered.</param>
    FrameResult Process(in ReadOnlySequence<byte> input, IBufferWriter<byte> output, bool isCompleted);

    /// <summary>
    /// Most input bytes one turn of the stream loop offers <see cref="Process"/> before its replies are
    /// flushed, so a client that stops reading holds back the server's reads instead of piling replies
    /// in memory; a protocol that must see whole units (lines) says how large a unit may be.
    /// </summary>
    long MaxTurnInput { get; }

    /// <summary>What the protocol tells a client still sending when the server drains, after answering what it sent (may be empty).</summary>
    ReadOnlySpan<byte> DrainNotice { get; }
}
