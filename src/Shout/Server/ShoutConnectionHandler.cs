using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Shout.Framing;
using Shout.Sessions;

namespace Shout.Server;

/// <summary>
/// The stream seam: the one receive loop of every stream transport (TCP, TLS, Unix). Read what
/// arrived, let the framer answer it, flush, repeat. Half-close, quit, drain, reset and protocol
/// errors all end here with one recorded <see cref="CloseReason"/>, through the session core's one
/// lifecycle and one timeout engine. The framer owns its protocol (the drain notice, the timeout
/// reply, the line limit); this loop owns only the pipe.
/// </summary>
internal sealed class ShoutConnectionHandler(ShoutServerOptions options, SessionRules rules, SessionLifecycle lifecycle,
    ShoutMetrics metrics, TimeProvider clock)
{
    private readonly IShoutFramer _framer = options.Mode == ShoutMode.Line ? new LineFramer(options.MaxLineLength) : StreamFramer.Instance;

    /// <summary>Serves one admitted connection of <paramref name="transport"/> until it ends.</summary>
    public Task OnConnectedAsync(ConnectionContext connection, TransportKind transport)
    {
        var input = connection.Transport.Input;
        var settings = rules.Current;

        // The timers are armed before the session is counted: whoever sees it open sees its idle clock running.
        var timeouts = new SessionTimeouts(settings, clock, metrics, new StreamTimeoutTarget(connection, input));
        var session = lifecycle.Open(connection.ConnectionId, transport, PeerAddress.Describe(connection.RemoteEndPoint),
            connection.Features.Get<SessionAdmission.Ticket>());
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        var drain = lifetime?.ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input);

        // Not awaited here: an idle connection holds one async state machine (ServeAsync's), not two.
        return ServeAsync(connection, transport, session, settings, drain, timeouts);
    }

    private async Task ServeAsync(ConnectionContext connection, TransportKind transport, Session session, SessionSettings settings,
        CancellationTokenRegistration? drain, SessionTimeouts timeouts)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var reason = CloseReason.Reset;
        var turn = default(FairTurn);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();

                // A read is cancelled by the drain request or an expired idle/line timeout.
                var expired = result.IsCanceled ? timeouts.Expired : null;
                if (expired == CloseReason.LineTimeout)
                {
                    // The unfinished line is refused like an over-long one, not answered.
                    input.AdvanceTo(result.Buffer.End);
                    output.Write(LineFramer.TimedOutReply.Span);
                    session.Sent(LineFramer.TimedOutReply.Length);
                    await timeouts.FlushAsync(output);
                    reason = CloseReason.LineTimeout;
                    break;
                }

                // Drain and idle timeout both answer everything buffered, then close.
                var draining = result.IsCanceled;
                if (!draining)
                {
                    timeouts.Received();
                }

                var final = result.IsCompleted || draining;

                // At most one turn's input before flushing (backpressure; the framer says how much).
                var buffer = final || result.Buffer.Length <= _framer.MaxTurnInput ? result.Buffer : result.Buffer.Slice(0, _framer.MaxTurnInput);
                var frame = _framer.Process(buffer, output, final);
                if (draining && expired is null && frame.Action == FrameAction.Continue)
                {
                    output.Write(_framer.DrainNotice);
                }

                timeouts.LineUnfinished(buffer.Length > frame.Consumed);
                input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);

                var written = output.UnflushedBytes;
                if (frame.Consumed > 0 || written > 0)
                {
                    session.Answered(frame.Consumed, written);
                    var flush = await timeouts.FlushAsync(output);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        reason = timeouts.Expired ?? CloseReason.Reset;
                        break;
                    }
                }

                if (Ending(frame.Action, draining, expired, result.IsCompleted, lifecycle, session) is { } ending)
                {
                    reason = ending;
                    break;
                }

                if (turn.Spend(frame.Consumed))
                {
                    // Give the I/O thread back to the other sockets it serves (row 32).
                    await Task.Yield();
                }
            }

            if (GracefulClose.Applies(reason, transport))
            {
                await GracefulClose.CloseAsync(connection, input, session.BytesOut, transport, settings.WriteTimeout, clock);
            }
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or OperationCanceledException)
        {
            // A write timeout aborts the connection, which surfaces here as an abort.
            reason = timeouts.Expired ?? CloseReason.Reset;
            lifecycle.Failed(session, e.Message);
        }
        finally
        {
            lifecycle.Close(session, reason);
            timeouts.Dispose();
            drain?.Dispose();
        }
    }

    /// <summary>
    /// Why a stream session ends after a read was answered, or null to keep reading: the framer's
    /// quit or protocol error, then the drain (or the timeout that interrupted the read), then the
    /// peer's FIN. Shared by every stream handler.
    /// </summary>
    internal static CloseReason? Ending(FrameAction action, bool draining, CloseReason? expired, bool completed, SessionLifecycle lifecycle,
        Session session)
    {
        if (action != FrameAction.Continue)
        {
            return action == FrameAction.Quit ? CloseReason.Quit : CloseReason.ProtocolError;
        }

        if (draining)
        {
            return expired ?? CloseReason.ServerDrain;
        }

        if (completed)
        {
            lifecycle.PeerHalfClosed(session);
            return CloseReason.ClientClosed;
        }

        return null;
    }
}
