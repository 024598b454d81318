using System.Buffers;
using System.Net.WebSockets;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode on the message seam, for WebSocket: each text message is a line (or several, split at
/// <c>\n</c>) of the room protocol, and every line queued for the member goes out as one text
/// message without its terminator. A writer drains the member's queue while the loop receives, so
/// others' lines arrive whenever they are said. The core's idle timeout, the server's stop (a
/// <c>QUIT</c> message, then a close frame) and the slow-member policy end it.
/// </summary>
internal sealed class RoomWebSocketSession(RoomHub hub, ShoutRoomOptions rooms, int maxLineLength, ShoutMetrics metrics, TimeProvider clock,
    DrainSignal drain) : IWebSocketProtocol
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary><c>/ws</c> joins the default room; <c>/ws/ROOM</c> joins ROOM (a room name: <see cref="RoomNames.Rule"/>).</summary>
    public string? Refusal(string target) =>
        target.Length == 0 || RoomNames.IsValid(target) ? null : $"/ws/{target}: not a room name ({RoomNames.Rule})";

    public async Task<SessionEnd> RunAsync(Session session, WebSocket socket, SessionSettings settings, string target, IOversizeSignal? frames,
        CancellationToken aborted)
    {
        try
        {
            return new(await RunMemberAsync(session, socket, settings, target.Length == 0 ? null : target));
        }
        catch (Exception e) when (SessionEnd.Ends(e))
        {
            return new(WebSocketFailure.PeerHungUp(e) ? CloseReason.Reset : CloseReason.ProtocolError, e.Message);
        }
    }

    private async Task<CloseReason> RunMemberAsync(Session session, WebSocket socket, SessionSettings settings, string? room)
    {
        var interrupt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = new Target(interrupt, socket);
        using var timeouts = new SessionTimeouts(settings, clock, metrics, target);
        // On the server's one drain list, as a stream session is (told at once if the drain has begun).
        drain.Join(target);
        using var leave = new DrainLeave(drain, target);
        using var member = new RoomMember(hub.NextId(), session.Transport.Name(), rooms, settings.WriteTimeout, clock, hub.Metrics, _ => socket.Abort());
        hub.Enter(member, room);
        var protocol = new RoomSession(hub, member, new LineFramer(maxLineLength));
        var writer = WriteAsync(member, socket, session, timeouts);
        var reason = CloseReason.Reset;
        try
        {
            reason = await ReceiveAsync(socket, protocol, session, timeouts, interrupt.Task, maxLineLength);
            if (reason == CloseReason.ServerDrain)
            {
                await member.AnswerAsync(RoomLines.QuitLine, cancellationToken: CancellationToken.None);
            }
            else if (reason == CloseReason.IdleTimeout)
            {
                await member.AnswerAsync(RoomLines.IdleClosed(settings.IdleTimeout), cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception e) when (member.Kicked && SessionEnd.Ends(e))
        {
            // The kick aborted the socket under the pending receive: the close is the kick's, not a hang-up.
            reason = CloseReason.SlowMember;
        }
        finally
        {
            hub.Leave(member);
            member.Complete();
            if (await Task.WhenAny(writer, Task.Delay(CloseTimeout, clock, CancellationToken.None)) != writer)
            {
                socket.Abort();
            }

            await writer;
        }

        if (member.Kicked)
        {
            return CloseReason.SlowMember;
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout, clock);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, ShoutMetrics.ReasonName(reason), timeout.Token)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return reason;
    }

    private static async Task<CloseReason> ReceiveAsync(WebSocket socket, RoomSession room, Session session, SessionTimeouts timeouts,
        Task interrupted, int maxLineLength)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var turn = default(FairTurn);
        while (true)
        {
            // One receive at a time; raced against the idle timeout and the server's stop.
            var receive = socket.ReceiveAsync(buffer.GetMemory(4096), CancellationToken.None).AsTask();
            if (await Task.WhenAny(receive, interrupted) != receive)
            {
                return timeouts.Expired ?? CloseReason.ServerDrain;
            }

            var result = await receive;
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return room.Member.Kicked ? CloseReason.SlowMember : CloseReason.ClientClosed;
            }

            timeouts.Received();
            buffer.Advance(result.Count);
            if (turn.Spend(result.Count))
            {
                // Give the I/O thread back to the other sockets it serves (row 32).
                await Task.Yield();
            }

            if (buffer.WrittenCount > maxLineLength + 1 || result.EndOfMessage)
            {
                // A message is a line: the framer refuses one over the limit, as on TCP.
                var frame = await room.MessageAsync(buffer.WrittenMemory);
                session.Answered(frame.Consumed, 0);
                buffer.ResetWrittenCount();
                if (frame.Action != FrameAction.Continue)
                {
                    return frame.Action == FrameAction.Quit ? CloseReason.Quit : CloseReason.ProtocolError;
                }
            }
        }
    }

    private static async Task WriteAsync(RoomMember member, WebSocket socket, Session session, SessionTimeouts timeouts)
    {
        try
        {
            await MessageMemberWriter.RunAsync(member, (socket, session, timeouts), static async (to, text) =>
            {
                await to.socket.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                to.session.Sent(text.Length);
                to.timeouts.Received();
            });
        }
        catch (Exception e) when (SessionEnd.Ends(e) || e is ObjectDisposedException)
        {
            member.Complete();
        }
    }

    /// <summary>The idle timeout and the drain end the receive; the write timeout aborts the socket.</summary>
    private sealed class Target(TaskCompletionSource interrupt, WebSocket socket) : DrainMember, ISessionTimeoutTarget
    {
        public void Interrupt() => interrupt.TrySetResult();

        public void Abort() => socket.Abort();

        public override void Drain() => interrupt.TrySetResult();
    }

    /// <summary>Takes the member off the drain's list when its run ends.</summary>
    private readonly struct DrainLeave(DrainSignal drain, DrainMember member) : IDisposable
    {
        public void Dispose() => drain.Leave(member);
    }
}
