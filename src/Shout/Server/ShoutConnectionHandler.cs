using System.Diagnostics;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Shout.Framing;

namespace Shout.Server;

/// <summary>
/// The one receive loop of every stream transport (TCP, TLS, Unix): read what arrived, let the
/// framer answer it, flush, repeat. Half-close, quit, drain, reset and protocol errors all end here
/// with one recorded <see cref="CloseReason"/>.
/// </summary>
internal sealed class ShoutConnectionHandler(ShoutServerOptions options, ShoutMetrics metrics, ILogger<ShoutConnectionHandler> logger)
    : ConnectionHandler
{
    /// <summary>Kestrel's default write-buffer limit: a flush past it waits for the client to read.</summary>
    private const int MaxAnswerChunk = 64 * 1024;

    private readonly IShoutFramer _framer = options.Mode == ShoutMode.Line ? new LineFramer(options.MaxLineLength) : StreamFramer.Instance;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var transport = TransportName(connection);
        var started = Stopwatch.GetTimestamp();
        metrics.ConnectionOpened(transport);
        ServerLog.Accepted(logger, connection.ConnectionId, transport, Describe(connection.RemoteEndPoint));

        var input = connection.Transport.Input;
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var drain = lifetime?.ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input);

        var counters = new Counters();
        var reason = CloseReason.Reset;
        try
        {
            reason = await ServeAsync(connection, input, connection.Transport.Output, transport, counters);
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or OperationCanceledException)
        {
            ServerLog.ConnectionError(logger, connection.ConnectionId, e.Message);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            metrics.ConnectionClosed(transport, reason, elapsed);
            ServerLog.Closed(logger, connection.ConnectionId, ClosedBy(reason), ShoutMetrics.ReasonName(reason),
                counters.BytesIn, counters.BytesOut, elapsed.TotalMilliseconds);
        }
    }

    private async Task<CloseReason> ServeAsync(ConnectionContext connection, PipeReader input, PipeWriter output,
        string transport, Counters counters)
    {
        while (true)
        {
            var result = await input.ReadAsync();

            // The only canceller of a read is the drain request: answer what is buffered, then close.
            var draining = result.IsCanceled;
            var final = result.IsCompleted || draining;

            // Stream mode answers at most one write buffer's worth before flushing, so a client that
            // stops reading holds back the server's reads (backpressure) instead of piling answers in
            // memory. (Line mode must see whole lines; its answers are bounded by the line limit.)
            var buffer = final || _framer is not StreamFramer || result.Buffer.Length <= MaxAnswerChunk
                ? result.Buffer
                : result.Buffer.Slice(0, MaxAnswerChunk);
            var frame = _framer.Process(buffer, output, final);
            if (draining && options.Mode == ShoutMode.Line && frame.Action == FrameAction.Continue)
            {
                output.Write(LineFramer.DrainNotice);
            }

            input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);

            var written = output.UnflushedBytes;
            if (frame.Consumed > 0 || written > 0)
            {
                counters.BytesIn += frame.Consumed;
                counters.BytesOut += written;
                metrics.Answered(transport, frame.Consumed, written);
                var flush = await output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return CloseReason.Reset;
                }
            }

            if (frame.Action != FrameAction.Continue)
            {
                return frame.Action == FrameAction.Quit ? CloseReason.Quit : CloseReason.ProtocolError;
            }

            if (draining)
            {
                return CloseReason.ServerDrain;
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

    private static string ClosedBy(CloseReason reason) => reason switch
    {
        CloseReason.ClientClosed or CloseReason.Reset => "client",
        _ => "server",
    };

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
