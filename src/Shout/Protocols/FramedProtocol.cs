using System.Buffers;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// Echo and line mode, on either seam: a stateless <see cref="IShoutFramer"/> answers what arrived
/// into the peer's answer, which is handed over once per turn. On a stream that is the tutorial's
/// echo (<see cref="StreamFramer"/>) or line mode (<see cref="LineFramer"/>, with its own replies:
/// <c>ERR line timeout</c> for a line left unfinished, the drain notice <c>QUIT</c>). On the message
/// seam every message is echoed chunk by chunk (a character split between chunks waits for the
/// rest): a WebSocket answer streams in fragments with backpressure like TCP, a datagram gets one
/// reply datagram.
/// </summary>
internal sealed class FramedProtocol(IShoutFramer framer, IPeer peer) : IProtocol
{
    /// <summary>Echo on every seam; on the message seam <c>/ws</c> only (a path under it names a room, and an echo server has none).</summary>
    internal static IProtocolFactory Echo { get; } = new Factory(StreamFramer.Instance);

    public long MaxTurnInput => framer.MaxTurnInput;

    public CloseReason? Abandoned => null;

    // Pooled: an answer that waits (a client reading slowly) would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameResult> ReceiveAsync(ReadOnlySequence<byte> input, bool end, bool draining)
    {
        var answer = peer.Answer;
        var frame = framer.Process(input, answer, end);
        if (draining && frame.Action == FrameAction.Continue)
        {
            answer.Write(framer.DrainNotice);
        }

        return await peer.AnswerAsync(frame.Consumed, endOfMessage: end) ? frame : frame with { Action = FrameAction.Gone };
    }

    public async ValueTask TimedOutAsync(CloseReason expired)
    {
        if (expired == CloseReason.LineTimeout)
        {
            // The unfinished line is refused like an over-long one, not answered.
            peer.Answer.Write(LineFramer.TimedOutReply.Span);
            await peer.AnswerAsync(0, endOfMessage: false);
        }
    }

    public ValueTask<CloseReason> EndAsync(CloseReason reason) => ValueTask.FromResult(reason);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Starts <see cref="FramedProtocol"/> sessions over one shared framer on the stream seam; on the
    /// message seam, where a message is already a line, every mode but room is the echo.
    /// </summary>
    internal sealed class Factory(IShoutFramer framer) : IProtocolFactory
    {
        public bool Leases => false;

        public string? Refusal(string target) =>
            target.Length == 0 ? null : $"/ws/{target}: rooms are served in room mode only (serve --mode room); the echo is at /ws";

        public IProtocol Start(IPeer peer, string target, SessionSettings settings) =>
            new FramedProtocol(peer.Seam == PeerSeam.Stream ? framer : StreamFramer.Instance, peer);
    }
}
