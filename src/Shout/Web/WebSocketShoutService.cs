using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Unicode;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Diagnostics;
using Shout.Server;
using Shout.Text;

namespace Shout.Web;

/// <summary>
/// <c>/ws</c>: each text message answered with its uppercase as text, each binary message with its
/// uppercase as binary (bytes that are not UTF-8 unchanged, as on every transport). Fragmented
/// messages are joined (up to <see cref="ShoutWebOptions.MaxMessageBytes"/>) and answered whole;
/// invalid UTF-8 in a text message closes with 1007; keep-alive pings abort dead peers; an idle
/// socket is closed by Shout's own timer, since Kestrel's HTTP timeouts stop at the upgrade.
/// </summary>
internal sealed class WebSocketShoutService(ShoutWebOptions options, ShoutMetrics metrics, IConnectionEvents events,
    IHostApplicationLifetime lifetime, TimeProvider time, ILogger<WebSocketShoutService> logger)
{
    public const string Transport = "ws";

    private readonly ShoutWebOptions _options = options;
    private readonly ShoutMetrics _metrics = metrics;
    private readonly IHostApplicationLifetime _lifetime = lifetime;
    private readonly TimeProvider _time = time;

    // How long a closing handshake may take before the socket is simply aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    // How long a connection whose frame was refused stays open so the close frame reaches the client.
    private static readonly TimeSpan ProtocolErrorLinger = TimeSpan.FromSeconds(1);

    private int _open;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected a WebSocket upgrade (GET with Upgrade: websocket)\n");
            return;
        }

        var remote = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        if (Interlocked.Increment(ref _open) > _options.MaxWebSockets)
        {
            Interlocked.Decrement(ref _open);
            _metrics.ConnectionRejected(Transport, CloseReason.Limit);
            events.Rejected(context.Connection.Id, Transport, remote, CloseReason.Limit);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"busy: {_options.MaxWebSockets} WebSockets are open\n");
            return;
        }

        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = _options.KeepAliveInterval,
                KeepAliveTimeout = _options.KeepAliveTimeout,
            });
            await ServeAsync(context.Connection.Id, remote, socket, context.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task ServeAsync(string id, string remote, WebSocket socket, CancellationToken aborted)
    {
        var started = Stopwatch.GetTimestamp();
        _metrics.ConnectionOpened(Transport);
        events.Opened(id, Transport, remote);
        ServerLog.Accepted(logger, id, Transport, remote);
        var session = new Session(this, socket, aborted);
        var reason = CloseReason.Reset;
        try
        {
            reason = await session.RunAsync();
        }

        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            reason = _lifetime.ApplicationStopping.IsCancellationRequested ? CloseReason.ServerDrain
                : IsKeepAliveTimeout(e) ? CloseReason.KeepAliveTimeout
                : CloseReason.Reset;
            ServerLog.ConnectionError(logger, id, e.Message);
            if (e is WebSocketException { WebSocketErrorCode: WebSocketError.Faulted })
            {
                // The runtime refused a frame (invalid UTF-8 in text: 1007; a malformed frame: 1002), sent
                // its close frame and aborted. Ending the request at once would reset the connection and
                // could destroy that close frame in the client's buffer; linger briefly so it arrives.
                reason = CloseReason.ProtocolError;
                await LingerAsync(aborted);
            }
        }
        finally
        {
            session.Dispose();
            var elapsed = Stopwatch.GetElapsedTime(started);
            _metrics.ConnectionClosed(Transport, reason, elapsed);
            events.Closed(id, Transport, remote, reason, session.BytesIn, session.BytesOut, elapsed);
            ServerLog.Closed(logger, id, IConnectionEvents.ClosedByFor(reason), ShoutMetrics.ReasonName(reason),
                session.BytesIn, session.BytesOut, elapsed.TotalMilliseconds);
        }
    }

    private async Task LingerAsync(CancellationToken aborted)
    {
        try
        {
            await Task.Delay(ProtocolErrorLinger, _time, aborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away first: nothing left to protect.
        }
    }

    // A pong overdue makes the runtime abort the socket, which Kestrel reports as the application
    // aborting the connection (newer runtimes add a TimeoutException); a peer's reset reads differently.
    private static bool IsKeepAliveTimeout(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is TimeoutException or ConnectionAbortedException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One WebSocket's receive loop and its pooled buffers.</summary>
    private sealed class Session : IDisposable
    {
        private readonly WebSocketShoutService _service;
        private readonly WebSocket _socket;
        private readonly CancellationToken _aborted;
        private readonly ShoutWebOptions _options;
        private readonly CancellationTokenSource _write;
        private readonly ITimer _idleTimer;
        private readonly CancellationTokenRegistration _stopping;
        private TaskCompletionSource? _wait;
        private byte[] _input = ArrayPool<byte>.Shared.Rent(4096);
        private byte[] _output = ArrayPool<byte>.Shared.Rent(ShoutCase.MaxOutputLength(4096));

        public Session(WebSocketShoutService service, WebSocket socket, CancellationToken aborted)
        {
            _service = service;
            _socket = socket;
            _aborted = aborted;
            _options = service._options;
            _write = new(Timeout.InfiniteTimeSpan, service._time);
            _idleTimer = service._time.CreateTimer(Fire, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _stopping = service._lifetime.ApplicationStopping.Register(Fire, this);
        }

        public long BytesIn { get; private set; }

        public long BytesOut { get; private set; }

        public async Task<CloseReason> RunAsync()
        {
            while (true)
            {
                var length = 0;
                var limit = _options.MaxMessageBytes + 1;
                ValueWebSocketReceiveResult result;
                do
                {
                    // Reading one byte past the limit is how a message over it is told from one at it.
                    if (length >= limit)
                    {
                        return await CloseAsync(WebSocketCloseStatus.MessageTooBig,
                            $"message larger than {_options.MaxMessageBytes} bytes", CloseReason.MessageTooBig);
                    }

                    if (length == _input.Length)
                    {
                        Grow(ref _input, Math.Min(length * 2, limit), length);
                    }

                    var pending = _socket.ReceiveAsync(_input.AsMemory(length, Math.Min(_input.Length, limit) - length), _aborted);
                    if (pending.IsCompleted)
                    {
                        result = await pending;
                    }
                    else
                    {
                        // A ValueTask is awaited once: the Task form lets the idle timer race it.
                        var receive = pending.AsTask();
                        if (await WaitOrIdleAsync(receive) is { } stop)
                        {
                            return stop;
                        }

                        result = await receive;
                    }

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "");
                        return CloseReason.ClientClosed;
                    }

                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (length > _options.MaxMessageBytes)
                {
                    return await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes",
                        CloseReason.MessageTooBig);
                }

                var message = _input.AsSpan(0, length);
                if (result.MessageType == WebSocketMessageType.Text && !Utf8.IsValid(message))
                {
                    // The runtime validates text frames itself; this guards the answer should it ever not.
                    return await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, "text message is not valid UTF-8", CloseReason.ProtocolError);
                }

                if (_output.Length < ShoutCase.MaxOutputLength(length))
                {
                    Grow(ref _output, ShoutCase.MaxOutputLength(length), 0);
                }

                ShoutCase.ToUpper(message, _output, isFinalBlock: true, out _, out var written);
                BytesIn += length;
                BytesOut += written;
                _service._metrics.Answered(Transport, length, written);
                if (!await SendAsync(_output.AsMemory(0, written), result.MessageType))
                {
                    _socket.Abort();
                    return CloseReason.WriteTimeout;
                }
            }
        }

        // Waits for a pending receive, or stops it on the idle timeout or a server shutdown. One
        // timer per socket, re-armed per wait, so a busy socket leaves no timers behind.
        private async Task<CloseReason?> WaitOrIdleAsync(Task<ValueWebSocketReceiveResult> receive)
        {
            var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _wait, wait);
            var stopping = _service._lifetime.ApplicationStopping;
            if (stopping.IsCancellationRequested)
            {
                wait.TrySetResult();
            }

            _idleTimer.Change(_options.IdleTimeout, Timeout.InfiniteTimeSpan);
            var winner = await Task.WhenAny(receive, wait.Task);
            _idleTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (winner == receive)
            {
                return null;
            }

            var (status, reason) = stopping.IsCancellationRequested
                ? (WebSocketCloseStatus.EndpointUnavailable, CloseReason.ServerDrain)
                : (WebSocketCloseStatus.NormalClosure, CloseReason.IdleTimeout);
            await CloseOutputAsync(status, reason == CloseReason.ServerDrain ? "server shutting down" : "idle timeout");

            // The pending receive sees the peer's close frame; a peer that never sends one is aborted.
            if (await Task.WhenAny(receive, Task.Delay(CloseTimeout, _service._time)) != receive)
            {
                _socket.Abort();
            }

            await ((Task)receive).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return reason;
        }

        private static void Fire(object? state) => Volatile.Read(ref ((Session)state!)._wait)?.TrySetResult();

        // Closes on the server's initiative, then reads (and drops) what the client still sends until
        // its close frame: closing the socket with unread data would reset the connection, and a
        // reset can destroy the close frame, with its status code, before the client reads it.
        private async Task<CloseReason> CloseAsync(WebSocketCloseStatus status, string description, CloseReason reason)
        {
            await CloseOutputAsync(status, description);
            var drain = DrainAsync();
            if (await Task.WhenAny(drain, Task.Delay(CloseTimeout, _service._time)) != drain)
            {
                _socket.Abort();
            }

            await drain.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return reason;
        }

        private async Task DrainAsync()
        {
            while (_socket.State == WebSocketState.CloseSent)
            {
                await _socket.ReceiveAsync(_input.AsMemory(), _aborted);
            }
        }

        private async Task CloseOutputAsync(WebSocketCloseStatus status, string description)
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                _write.CancelAfter(CloseTimeout);
                await _socket.CloseOutputAsync(status, description, _write.Token);
            }
        }

        // A reply the client does not read within the idle timeout ends the connection (slow reader).
        private async Task<bool> SendAsync(ReadOnlyMemory<byte> reply, WebSocketMessageType type)
        {
            _write.CancelAfter(_options.IdleTimeout);
            try
            {
                await _socket.SendAsync(reply, type, endOfMessage: true, _write.Token);
            }
            catch (OperationCanceledException) when (_write.IsCancellationRequested && !_aborted.IsCancellationRequested)
            {
                return false;
            }

            _write.CancelAfter(Timeout.InfiniteTimeSpan);
            return true;
        }

        private static void Grow(ref byte[] buffer, int size, int keep)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(size);
            buffer.AsSpan(0, keep).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = bigger;
        }

        public void Dispose()
        {
            _stopping.Dispose();
            _idleTimer.Dispose();
            _write.Dispose();
            ArrayPool<byte>.Shared.Return(_input);
            ArrayPool<byte>.Shared.Return(_output);
        }
    }
}
