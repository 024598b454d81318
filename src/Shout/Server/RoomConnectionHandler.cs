using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Shout.Framing;
using Shout.Rooms;
using Shout.Sessions;

namespace Shout.Server;

/// <summary>
/// Room mode on the stream seam (TCP, TLS, Unix): a read loop hands lines to the member's
/// <see cref="RoomSession"/>, and a writer drains the member's queue to the client, so what other
/// members say arrives while this one types. The session core's lifecycle and timeouts, as in
/// <see cref="ShoutConnectionHandler"/>: one <see cref="CloseReason"/>, the idle and line timeouts,
/// drain on shutdown (<c>QUIT</c>). A member kicked for not reading closes with
/// <see cref="CloseReason.SlowMember"/>.
/// </summary>
internal sealed class RoomConnectionHandler(ShoutServerOptions options, SessionRules rules, SessionLifecycle lifecycle,
    ShoutMetrics metrics, TimeProvider clock, RoomHub hub)
{
    /// <summary>Most bytes of queued lines written before one flush.</summary>
    private const int MaxWriteBatch = 64 * 1024;

    private readonly LineFramer _framer = new(options.MaxLineLength);

    /// <summary>Serves one admitted connection of <paramref name="transport"/> as a room member until it ends.</summary>
    public async Task OnConnectedAsync(ConnectionContext connection, TransportKind transport)
    {
        var input = connection.Transport.Input;
        var settings = rules.Current;

        // As on the stream handler: the timers are armed before the session is counted.
        using var timeouts = new SessionTimeouts(settings, clock, metrics, new StreamTimeoutTarget(connection, input));
        var session = lifecycle.Open(connection.ConnectionId, transport, PeerAddress.Describe(connection.RemoteEndPoint),
            connection.Features.Get<SessionAdmission.Ticket>());
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var drain = lifetime?.ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input);
        using var member = new RoomMember(hub.NextId(), transport.Name(), options.Rooms, settings.WriteTimeout, clock, hub.Metrics,
            _ => connection.Abort(new ConnectionAbortedException("The room member did not read its lines within the write timeout.")));
        hub.Enter(member);
        var writer = WriteAsync(member, connection.Transport.Output, timeouts, session);
        var reason = CloseReason.Reset;
        try
        {
            try
            {
                reason = await ReadAsync(input, new RoomSession(hub, member, _framer), timeouts, session);
            }
            finally
            {
                // Out of the room first, so nothing more is queued; then what is queued is sent.
                hub.Leave(member);
                member.Complete();
            }

            // What is left goes out within the write timeout; a client that does not take it is cut off.
            if (SessionSettings.IsOn(settings.WriteTimeout) && !writer.IsCompleted
                && await Task.WhenAny(writer, Task.Delay(settings.WriteTimeout, clock)) != writer)
            {
                connection.Abort(new ConnectionAbortedException("The room member did not read its last lines within the write timeout."));
                reason = CloseReason.WriteTimeout;
            }

            await writer;
            if (member.Kicked)
            {
                reason = CloseReason.SlowMember;
            }
            else if (GracefulClose.Applies(reason, transport))
            {
                await GracefulClose.CloseAsync(connection, input, session.BytesOut, transport, settings.WriteTimeout, clock);
            }
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or OperationCanceledException)
        {
            reason = member.Kicked ? CloseReason.SlowMember : timeouts.Expired ?? CloseReason.Reset;
            lifecycle.Failed(session, e.Message);
        }
        finally
        {
            lifecycle.Close(session, reason);
        }
    }


    private async Task<CloseReason> ReadAsync(PipeReader input, RoomSession room, SessionTimeouts timeouts, Session session)
    {
        var member = room.Member;
        var turn = default(FairTurn);
        while (true)
        {
            var result = await input.ReadAsync();
            if (member.Kicked)
            {
                input.AdvanceTo(result.Buffer.End);
                return CloseReason.SlowMember;
            }

            // A read is cancelled by the drain request or an expired idle/line timeout.
            var expired = result.IsCanceled ? timeouts.Expired : null;
            if (expired == CloseReason.LineTimeout)
            {
                input.AdvanceTo(result.Buffer.End);
                await member.AnswerAsync(LineFramer.TimedOutReply);
                return CloseReason.LineTimeout;
            }

            if (expired == CloseReason.IdleTimeout)
            {
                // The room protocol says why it closes, as line mode's ERR line timeout does.
                await member.AnswerAsync(RoomLines.IdleClosed(rules.Current.IdleTimeout));
            }

            var draining = result.IsCanceled;
            if (!draining)
            {
                timeouts.Received();
            }

            var buffer = result.Buffer;
            var frame = await room.ProcessAsync(buffer, result.IsCompleted || draining);
            if (draining && expired is null && frame.Action == FrameAction.Continue)
            {
                await member.AnswerAsync(RoomLines.QuitLine);
            }

            timeouts.LineUnfinished(buffer.Length > frame.Consumed);
            input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);
            if (frame.Consumed > 0)
            {
                session.Answered(frame.Consumed, 0);
            }

            if (ShoutConnectionHandler.Ending(frame.Action, draining, expired, result.IsCompleted, lifecycle, session) is { } ending)
            {
                return ending;
            }

            if (turn.Spend(frame.Consumed))
            {
                // Give the I/O thread back to the other sockets it serves (row 32).
                await Task.Yield();
            }
        }
    }

    /// <summary>Sends the member's queue until it is completed or the client is gone.</summary>
    private static async Task WriteAsync(RoomMember member, PipeWriter output, SessionTimeouts timeouts, Session session)
    {
        try
        {
            while (await member.WaitToReadAsync())
            {
                // Everything queued (up to a limit) goes out in one write and one flush.
                var batch = 0L;
                while (batch < MaxWriteBatch && member.TryTake(out var lines))
                {
                    output.Write(lines.Span);
                    batch += lines.Length;
                }

                session.Sent(batch);

                // No write timeout on this flush: while it waits, the member's queue fills, and the
                // slow-member policy (kick after the write timeout, or drop the oldest) decides.
                var flush = await output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }

                // A member that listens is not idle: lines reaching it keep it open.
                timeouts.Received();
            }
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException
            or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone (reset, kicked, write timeout): the read side records why.
            member.Complete();
        }
    }
}
