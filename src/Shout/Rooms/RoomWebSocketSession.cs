using System.Buffers;
using System.Net.WebSockets;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// Room mode's binding to the WebSocket transport: it receives each text message (at most a line's
/// limit) and hands it to the message seam's one room member, <see cref="RoomMessageMember"/>,
/// whose writer sends every line the member is owed as one text message while this loop receives.
/// The core's idle timeout, the server's stop (a <c>QUIT</c> message, then a close frame) and the
/// slow-member policy end it.
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
        using var member = new RoomMessageMember(hub, rooms, new LineFramer(maxLineLength), settings.WriteTimeout, clock,
            new Peer(socket, session, timeouts));
        member.Enter(room);
        var reason = CloseReason.Reset;
        try
        {
            reason = await ReceiveAsync(socket, member, session, timeouts, interrupt.Task, maxLineLength);
            if (reason == CloseReason.ServerDrain)
            {
                await member.AnswerAsync(RoomLines.QuitLine);
            }
            else if (reason == CloseReason.IdleTimeout)
            {
                await member.AnswerAsync(RoomLines.IdleClosed(settings.IdleTimeout));
            }
        }
        catch (Exception e) when (member.Kicked && SessionEnd.Ends(e))
        {
            // The kick aborted the socket under the pending receive: the close is the kick's, not a hang-up.
            reason = CloseReason.SlowMember;
        }
        finally
        {
            member.Leave();
            if (await Task.WhenAny(member.Writer, Task.Delay(CloseTimeout, clock, CancellationToken.None)) != member.Writer)
            {
                socket.Abort();
            }

            await member.Writer;
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

    private static async Task<CloseReason> ReceiveAsync(WebSocket socket, RoomMessageMember room, Session session, SessionTimeouts timeouts,
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
                return room.Kicked ? CloseReason.SlowMember : CloseReason.ClientClosed;
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
                var action = await room.MessageAsync(buffer.WrittenMemory);
                session.Answered(buffer.WrittenCount, 0);
                buffer.ResetWrittenCount();
                if (action != FrameAction.Continue)
                {
                    return action == FrameAction.Quit ? CloseReason.Quit : CloseReason.ProtocolError;
                }
            }
        }
    }

    /// <summary>The WebSocket as the room member's peer: each line one text message; a line reaching the member keeps it from idling.</summary>
    private sealed class Peer(WebSocket socket, Session session, SessionTimeouts timeouts) : IMessagePeer
    {
        public Session Session => session;

        public async ValueTask SendAsync(ReadOnlyMemory<byte> message)
        {
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            session.Sent(message.Length);
            timeouts.Received();
        }

        public void Kick() => socket.Abort();
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
