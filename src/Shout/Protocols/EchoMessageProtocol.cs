using System.Buffers;
using Shout.Protocols.Framing;
using Shout.Sessions;
using Shout.Text;

namespace Shout.Protocols;

/// <summary>
/// The tutorial's echo on the message seam: each chunk of a message is uppercased and answered at
/// once as the next part of the answer (a character split between chunks waits for the rest), so
/// a WebSocket answer streams in fragments with backpressure like TCP, and a datagram gets one
/// reply datagram. An answer longer than the peer can carry is cut at a character boundary. The
/// answer buffer is rented for one message and given back at its end: an idle peer holds none.
/// </summary>
internal sealed class EchoMessageProtocol(IMessagePeer peer) : IMessageProtocol
{
    // The WebSocket transport's chunk (16 KiB): the answer buffer is sized for at least one.
    private const int MinChunk = 16 * 1024;

    private byte[]? _output;

    /// <summary>Echo on every peer; <c>/ws</c> only (a path under it names a room, and an echo server has none).</summary>
    internal static IMessageProtocolFactory Factory { get; } = new EchoFactory();

    public CloseReason? Abandoned => null;

    // Pooled: an answer that waits (a client reading slowly) would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameResult> ReceiveAsync(ReadOnlyMemory<byte> chunk, bool endOfMessage)
    {
        // At least a WebSocket chunk's answer, so a message whose chunks grow does not rent again for each.
        var needed = ShoutCase.MaxOutputLength(Math.Max(chunk.Length, MinChunk));
        if (_output is { } small && small.Length < needed)
        {
            _output = null;
            ArrayPool<byte>.Shared.Return(small);
        }

        var output = _output ??= ArrayPool<byte>.Shared.Rent(needed);
        var room = Math.Min(peer.MaxAnswer, output.Length);
        var status = ShoutCase.ToUpper(chunk.Span, output.AsSpan(0, room), isFinalBlock: endOfMessage, out var consumed, out var written);
        if (status == OperationStatus.DestinationTooSmall)
        {
            // Only where a message is one answer (a datagram): the rest is not sent, and everything counts as read.
            peer.AnswerCut(chunk.Length, written);
            consumed = chunk.Length;
        }

        if (written > 0 || endOfMessage)
        {
            await peer.AnswerAsync(consumed, output.AsMemory(0, written), endOfMessage);
        }

        if (endOfMessage)
        {
            Release();
        }

        return new(consumed, FrameAction.Continue);
    }

    public ValueTask<CloseReason> EndAsync(CloseReason reason) => ValueTask.FromResult(reason);

    public ValueTask DisposeAsync()
    {
        Release();
        return ValueTask.CompletedTask;
    }

    private void Release()
    {
        if (_output is { } output)
        {
            _output = null;
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private sealed class EchoFactory : IMessageProtocolFactory
    {
        public bool Leases => false;

        public string? Refusal(string target) =>
            target.Length == 0 ? null : $"/ws/{target}: rooms are served in room mode only (serve --mode room); the echo is at /ws";

        public IMessageProtocol Start(IMessagePeer peer, string target, SessionSettings settings) => new EchoMessageProtocol(peer);
    }
}
