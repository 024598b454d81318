using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Protocols;

/// <summary>
/// Echo-stream and line mode on the stream seam: a stateless <see cref="IShoutFramer"/> answers
/// what arrived into the connection's output, which is flushed once per turn (bounded by the write
/// timeout). Line mode's own replies live here with its framer: <c>ERR line timeout</c> for a line
/// left unfinished, and the framer's drain notice (<c>QUIT</c>) when the server drains.
/// </summary>
internal sealed class FramedStreamProtocol(IShoutFramer framer, PipeWriter output, SessionTimeouts timeouts, Session session) : IStreamProtocol
{
    public long MaxTurnInput => framer.MaxTurnInput;

    public CloseReason? Abandoned => null;

    // Pooled: a flush that waits (a client reading slowly) would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool final, bool draining)
    {
        var frame = framer.Process(input, output, final);
        if (draining && frame.Action == FrameAction.Continue)
        {
            output.Write(framer.DrainNotice);
        }

        var written = output.UnflushedBytes;
        if (frame.Consumed == 0 && written == 0)
        {
            return frame;
        }

        session.Answered(frame.Consumed, written);
        var flush = await timeouts.FlushAsync(output);
        return flush.IsCompleted || flush.IsCanceled ? frame with { Action = FrameAction.Gone } : frame;
    }

    public async ValueTask TimedOutAsync(CloseReason expired)
    {
        if (expired == CloseReason.LineTimeout)
        {
            // The unfinished line is refused like an over-long one, not answered.
            output.Write(LineFramer.TimedOutReply.Span);
            session.Sent(LineFramer.TimedOutReply.Length);
            await timeouts.FlushAsync(output);
        }
    }

    public ValueTask<CloseReason> EndAsync(CloseReason reason) => ValueTask.FromResult(reason);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Starts <see cref="FramedStreamProtocol"/> sessions over one shared framer.</summary>
    internal sealed class Factory(IShoutFramer framer) : IStreamProtocolFactory
    {
        public IStreamProtocol Start(ConnectionContext connection, SessionTimeouts timeouts, Session session, SessionSettings settings)
            => new FramedStreamProtocol(framer, connection.Transport.Output, timeouts, session);
    }
}
