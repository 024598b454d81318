using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Shout.Diagnostics;
using Shout.Framing;
using Shout.Rooms;

namespace Shout.Server;

/// <summary>
/// Room mode on a stream transport (TCP, TLS, Unix): a read loop hands lines to the member's
/// <see cref="RoomSession"/>, and a writer drains the member's queue to the client, so what other
/// members say arrives while this one types. The same lifecycle as <see cref="ShoutConnectionHandler"/>:
/// one <see cref="CloseReason"/>, logged and counted; the same idle, line and write timeouts; drain
/// on shutdown (<c>QUIT</c>). A member kicked for not reading closes with <see cref="CloseReason.SlowMember"/>.
/// </summary>
internal sealed class RoomConnectionHandler(ShoutServerOptions options, ShoutMetrics metrics, TimeProvider clock,
    IConnectionEvents events, RoomHub hub, ILogger<RoomConnectionHandler> logger)
    : ConnectionHandler
{
    /// <summary>Most bytes of queued lines written before one flush.</summary>
    private const int MaxWriteBatch = 64 * 1024;

    private static readonly byte[] LineTimedOut = "ERR line timeout\n"u8.ToArray();

    private readonly LineFramer _framer = new(options.MaxLineLength);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var transport = TransportName(connection);
        var started = Stopwatch.GetTimestamp();
        var remote = Describe(connection.RemoteEndPoint);
        metrics.ConnectionOpened(transport);
        events.Opened(connection.ConnectionId, transport, remote);
        ServerLog.Accepted(logger, connection.ConnectionId, transport, remote);

        var input = connection.Transport.Input;
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var drain = lifetime?.ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input);
        using var timeouts = new ConnectionTimeouts(options, clock, metrics, connection, input);
        using var member = new RoomMember(hub.NextId(), transport, options.Rooms, options.WriteTimeout, clock, hub.Metrics,
            _ => connection.Abort(new ConnectionAbortedException("The room member did not read its lines within the write timeout.")));
        hub.Enter(member);
        var session = new RoomSession(hub, member, _framer);
        var bytesIn = 0L;
        var writer = WriteAsync(member, connection.Transport.Output, timeouts, transport);
        var reason = CloseReason.Reset;
        try
        {
            try
            {
                reason = await ReadAsync(connection, input, session, timeouts, transport, count => bytesIn += count);
            }
            finally
            {
                // Gone from the room first, so nothing more is queued; then what is queued is sent.
                hub.Leave(member);
                member.Complete();
            }

            // What is left goes out within the write timeout; a client that does not take it is cut off.
            if (ShoutServerOptions.IsOn(options.WriteTimeout) && !writer.IsCompleted
                && await Task.WhenAny(writer, Task.Delay(options.WriteTimeout, clock)) != writer)
            {
                connection.Abort(new ConnectionAbortedException("The room member did not read its last lines within the write timeout."));
                reason = CloseReason.WriteTimeout;
            }

            var bytesOut = await writer;
            if (member.Kicked)
            {
                reason = CloseReason.SlowMember;
            }
            else if (GracefulClose.Applies(reason, transport))
            {
                await GracefulClose.RunAsync(connection, input, bytesOut,
                    ShoutServerOptions.IsOn(options.WriteTimeout) ? options.WriteTimeout : GracefulClose.Linger, clock);
            }
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or OperationCanceledException)
        {
            reason = member.Kicked ? CloseReason.SlowMember : timeouts.Expired ?? CloseReason.Reset;
            ServerLog.ConnectionError(logger, connection.ConnectionId, e.Message);
        }
        finally
        {
            var bytesOut = writer.IsCompletedSuccessfully ? writer.Result : 0;
            var elapsed = Stopwatch.GetElapsedTime(started);
            events.Closed(connection.ConnectionId, transport, remote, reason, bytesIn, bytesOut, elapsed);
            metrics.ConnectionClosed(transport, reason, elapsed);
            ServerLog.Closed(logger, connection.ConnectionId, IConnectionEvents.ClosedByFor(reason), ShoutMetrics.ReasonName(reason),
                bytesIn, bytesOut, elapsed.TotalMilliseconds);
        }
    }

    private async Task<CloseReason> ReadAsync(ConnectionContext connection, PipeReader input, RoomSession session,
        ConnectionTimeouts timeouts, string transport, Action<long> received)
    {
        var member = session.Member;
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
                await member.AnswerAsync(LineTimedOut);
                return CloseReason.LineTimeout;
            }

            var draining = result.IsCanceled;
            if (!draining)
            {
                timeouts.Received();
            }

            var buffer = result.Buffer;
            var frame = await session.ProcessAsync(buffer, result.IsCompleted || draining);
            if (draining && expired is null && frame.Action == FrameAction.Continue)
            {
                await member.AnswerAsync(RoomLines.QuitLine);
            }

            timeouts.LineUnfinished(buffer.Length > frame.Consumed);
            input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);
            if (frame.Consumed > 0)
            {
                received(frame.Consumed);
                metrics.Answered(transport, frame.Consumed, 0);
            }

            if (frame.Action != FrameAction.Continue)
            {
                return frame.Action == FrameAction.Quit ? CloseReason.Quit : CloseReason.ProtocolError;
            }

            if (draining)
            {
                return expired ?? CloseReason.ServerDrain;
            }

            if (result.IsCompleted)
            {
                ServerLog.PeerHalfClosed(logger, connection.ConnectionId);
                return CloseReason.ClientClosed;
            }
        }
    }

    /// <summary>Sends the member's queue until it is completed or the client is gone; returns the bytes written.</summary>
    private async Task<long> WriteAsync(RoomMember member, PipeWriter output, ConnectionTimeouts timeouts, string transport)
    {
        var total = 0L;
        var queue = member.Outgoing;
        try
        {
            while (await queue.WaitToReadAsync())
            {
                var batch = 0L;
                while (batch < MaxWriteBatch && queue.TryRead(out var line))
                {
                    output.Write(line.Span);
                    batch += line.Length;
                }

                member.Drained();
                total += batch;
                metrics.Sent(transport, batch);
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

        return total;
    }

    private static string TransportName(ConnectionContext connection) =>
        connection.LocalEndPoint is UnixDomainSocketEndPoint ? "unix"
        : connection.Features.Get<ITlsHandshakeFeature>() is not null ? "tls"
        : "tcp";

    private static string Describe(EndPoint? endPoint) => endPoint switch
    {
        null => "?",
        UnixDomainSocketEndPoint => "unix peer",
        _ => endPoint.ToString() ?? "?",
    };
}
