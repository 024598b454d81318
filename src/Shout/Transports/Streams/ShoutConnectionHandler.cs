using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Streams;

/// <summary>
/// The stream seam: the one receive loop of every stream transport (TCP, TLS, Unix). It opens the
/// session through the one owner of every session's life, <see cref="SessionRunner"/> (timers armed
/// first; its open/end pair, so an idle connection holds this loop's one state machine), starts the mode's
/// <see cref="IProtocol"/> over the connection as its <see cref="StreamPeer"/>, reads and hands the protocol what arrived and what interrupted
/// the read (a drain, an idle or line timeout), and maps how the session ended to one
/// <see cref="CloseReason"/> (the runner's mapping) before it closes. It knows no protocol: echo, line and room answer,
/// flush and say goodbye on their own.
/// </summary>
internal sealed class ShoutConnectionHandler(IProtocolFactory protocols, SessionRules rules, SessionRunner runner,
    ShoutMetrics metrics, TimeProvider clock, DrainSignal drain)
{
    /// <summary>Serves one admitted connection of <paramref name="transport"/> until it ends.</summary>
    public Task OnConnectedAsync(ConnectionContext connection, TransportKind transport)
    {
        var input = connection.Transport.Input;
        var settings = rules.Current;

        // The timers are armed before the session is counted: whoever sees it open sees its idle clock running.
        var peer = new StreamPeer(connection, input);
        var timeouts = new SessionTimeouts(settings, clock, metrics, peer);
        var session = runner.Open(connection.ConnectionId, transport, PeerAddress.Describe(connection.RemoteEndPoint),
            connection.Features.Get<SessionAdmission.Ticket>());
        peer.Open(session, timeouts);

        // The server's drain reaches the session through its one list (it begins when Kestrel would ask
        // each connection, after the listeners were handed over), not a registration per connection.
        drain.Join(peer);

        // Not awaited here: an idle connection holds one async state machine (ServeAsync's), not two.
        return ServeAsync(connection, transport, session, settings, peer, timeouts);
    }

    private async Task ServeAsync(ConnectionContext connection, TransportKind transport, Session session, SessionSettings settings,
        StreamPeer peer, SessionTimeouts timeouts)
    {
        var input = connection.Transport.Input;
        var reason = CloseReason.Reset;
        var turn = default(FairTurn);
        IProtocol? protocol = null;
        try
        {
            protocol = protocols.Start(peer, "", settings);

            // The read loop is inline and a turn's work is in AnswerAsync: an idle connection holds this
            // one state machine, and only what the loop needs between reads (not a read's buffers).
            while (true)
            {
                // The read first, then the call: an argument evaluated before an await is kept in the state machine.
                var read = await input.ReadAsync();
                var answered = AnswerAsync(input, read, protocol, timeouts, session);
                var (ending, consumed) = answered.IsCompletedSuccessfully ? answered.Result : await answered;
                if (ending is { } ended)
                {
                    reason = ended;
                    break;
                }

                if (turn.Spend(consumed))
                {
                    // Give the I/O thread back to the other sockets it serves (row 32).
                    await Task.Yield();
                }
            }

            reason = await protocol.EndAsync(reason);
            if (GracefulClose.Applies(reason, transport))
            {
                await GracefulClose.CloseAsync(connection, input, session.BytesOut, transport, settings.WriteTimeout, clock);
            }
        }
        catch (Exception e) when (SessionEnd.Ends(e))
        {
            // A write timeout aborts the connection, which surfaces here as an abort. The failure is
            // recorded now, not carried to the end: a field more in this state machine is 8 bytes more per idle connection.
            reason = runner.Failed(session, e, new(protocol?.Abandoned, timeouts.Expired, Draining: false, Unexplained: CloseReason.Reset));
        }
        finally
        {
            if (protocol is not null)
            {
                await protocol.DisposeAsync();
            }

            runner.End(session, reason);
            timeouts.Dispose();
            drain.Leave(peer);
        }
    }

    /// <summary>
    /// One turn: hands the protocol what one read brought and what interrupted it, and says whether
    /// the session ends (and why) and how many bytes were consumed. Completes at once unless a reply
    /// waits for the client; pooled, so a wait costs no allocation.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(CloseReason? Ending, long Consumed)> AnswerAsync(PipeReader input, ReadResult result, IProtocol protocol,
        SessionTimeouts timeouts, Session session)
    {
        if (protocol.Abandoned is { } abandoned)
        {
            input.AdvanceTo(result.Buffer.End);
            return (abandoned, 0);
        }

        // A read is cancelled by the drain request or an expired idle/line timeout.
        var expired = result.IsCanceled ? timeouts.Expired : null;
        if (expired == CloseReason.LineTimeout)
        {
            // The unfinished line is not answered; the protocol says why it closes.
            input.AdvanceTo(result.Buffer.End);
            await protocol.TimedOutAsync(CloseReason.LineTimeout);
            return (CloseReason.LineTimeout, 0);
        }

        if (expired is { } timedOut)
        {
            await protocol.TimedOutAsync(timedOut);
        }

        // Drain and idle timeout both answer everything buffered, then close.
        var draining = result.IsCanceled;
        if (!draining)
        {
            timeouts.Received();
        }

        var final = result.IsCompleted || draining;

        // At most one turn's input before flushing (backpressure; the protocol says how much).
        var buffer = final || result.Buffer.Length <= protocol.MaxTurnInput ? result.Buffer : result.Buffer.Slice(0, protocol.MaxTurnInput);
        var frame = await protocol.ReceiveAsync(buffer, final, draining && expired is null);
        timeouts.LineUnfinished(buffer.Length > frame.Consumed);
        input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);
        return (Ending(frame.Action, draining, expired, result.IsCompleted, timeouts, session), frame.Consumed);
    }

    /// <summary>
    /// Why a session ends after a read was answered, or null to keep reading: the client gone, the
    /// protocol's quit or protocol error, then the drain (or the timeout that interrupted the read),
    /// then the peer's FIN.
    /// </summary>
    private CloseReason? Ending(FrameAction action, bool draining, CloseReason? expired, bool completed, SessionTimeouts timeouts, Session session)
    {
        switch (action)
        {
            case FrameAction.Gone:
                return timeouts.Expired ?? CloseReason.Reset;
            case FrameAction.Quit:
                return CloseReason.Quit;
            case FrameAction.ProtocolError:
                return CloseReason.ProtocolError;
        }

        if (draining)
        {
            return expired ?? CloseReason.ServerDrain;
        }

        if (completed)
        {
            runner.PeerHalfClosed(session);
            return CloseReason.ClientClosed;
        }

        return null;
    }
}
