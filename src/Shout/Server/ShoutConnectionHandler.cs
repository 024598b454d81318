using System.Diagnostics;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Shout.Diagnostics;
using Shout.Framing;

namespace Shout.Server;

/// <summary>
/// The one receive loop of every stream transport (TCP, TLS, Unix): read what arrived, let the
/// framer answer it, flush, repeat. Half-close, quit, drain, reset and protocol errors all end here
/// with one recorded <see cref="CloseReason"/>.
/// </summary>
internal sealed class ShoutConnectionHandler(ShoutServerOptions options, ShoutMetrics metrics, TimeProvider clock,
    IConnectionEvents events,
    ILogger<ShoutConnectionHandler> logger)
    : ConnectionHandler
{
    /// <summary>Kestrel's default write-buffer limit: a flush past it waits for the client to read.</summary>
    private const int MaxAnswerChunk = 64 * 1024;

    /// <summary>Line mode: the answer to a line left unfinished past the line timeout, before the close.</summary>
    private static ReadOnlySpan<byte> LineTimedOut => "ERR line timeout\n"u8;

    private readonly IShoutFramer _framer = options.Mode == ShoutMode.Line ? new LineFramer(options.MaxLineLength) : StreamFramer.Instance;

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

        var counters = new Counters();
        var reason = CloseReason.Reset;
        try
        {
            reason = await ServeAsync(connection, input, connection.Transport.Output, transport, counters, timeouts);
            if (GracefulClose.Applies(reason, transport))
            {
                await GracefulClose.RunAsync(connection, input, counters.BytesOut,
                    ShoutServerOptions.IsOn(options.WriteTimeout) ? options.WriteTimeout : GracefulClose.Linger, clock);
            }
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or OperationCanceledException)
        {
            // A write timeout aborts the connection, which surfaces here as an abort.
            reason = timeouts.Expired ?? CloseReason.Reset;
            ServerLog.ConnectionError(logger, connection.ConnectionId, e.Message);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            events.Closed(connection.ConnectionId, transport, remote, reason, counters.BytesIn, counters.BytesOut, elapsed);
            metrics.ConnectionClosed(transport, reason, elapsed);
            ServerLog.Closed(logger, connection.ConnectionId, IConnectionEvents.ClosedByFor(reason), ShoutMetrics.ReasonName(reason),
                counters.BytesIn, counters.BytesOut, elapsed.TotalMilliseconds, transport, remote);
        }
    }

    private async Task<CloseReason> ServeAsync(ConnectionContext connection, PipeReader input, PipeWriter output,
        string transport, Counters counters, ConnectionTimeouts timeouts)
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
                output.Write(LineTimedOut);
                counters.BytesOut += LineTimedOut.Length;
                await timeouts.FlushAsync(output);
                return CloseReason.LineTimeout;
            }

            // Drain and idle timeout both answer everything buffered, then close.
            var draining = result.IsCanceled;
            if (!draining)
            {
                timeouts.Received();
            }

            var final = result.IsCompleted || draining;

            // Stream mode answers at most one write buffer's worth before flushing, so a client that
            // stops reading holds back the server's reads (backpressure) instead of piling answers in
            // memory. (Line mode must see whole lines; its answers are bounded by the line limit.)
            var buffer = final || _framer is not StreamFramer || result.Buffer.Length <= MaxAnswerChunk
                ? result.Buffer
                : result.Buffer.Slice(0, MaxAnswerChunk);
            var frame = _framer.Process(buffer, output, final);
            if (draining && expired is null && options.Mode == ShoutMode.Line && frame.Action == FrameAction.Continue)
            {
                output.Write(LineFramer.DrainNotice);
            }

            timeouts.LineUnfinished(buffer.Length > frame.Consumed);
            input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);

            var written = output.UnflushedBytes;
            if (frame.Consumed > 0 || written > 0)
            {
                counters.BytesIn += frame.Consumed;
                counters.BytesOut += written;
                metrics.Answered(transport, frame.Consumed, written);
                var flush = await timeouts.FlushAsync(output);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return timeouts.Expired ?? CloseReason.Reset;
                }
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

    private sealed class Counters
    {
        public long BytesIn { get; set; }

        public long BytesOut { get; set; }
    }
}
