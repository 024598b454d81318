using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;
using Microsoft.Extensions.Hosting;
using Shout.Server;
using Shout.Text;

namespace Shout.Web;

/// <summary>
/// One WebSocket's receive loop and its pooled buffers: join a message's fragments (bounded),
/// answer it uppercased, repeat; close on the idle timeout, on shutdown, or when the client breaks
/// the limits. Used by one request at a time; not thread-safe.
/// </summary>
internal sealed class WebSocketSession : IDisposable
{
    // How long a closing handshake may take before the socket is simply aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly ShoutWebOptions _options;
    private readonly ShoutMetrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly WebSocket _socket;
    private readonly CancellationToken _aborted;
    private readonly CancellationTokenSource _write;
    private readonly ITimer _idleTimer;
    private readonly CancellationTokenRegistration _stopping;
    private TaskCompletionSource? _wait;
    private byte[] _input = ArrayPool<byte>.Shared.Rent(4096);
    private byte[] _output = ArrayPool<byte>.Shared.Rent(ShoutCase.MaxOutputLength(4096));

    public WebSocketSession(ShoutWebOptions options, ShoutMetrics metrics, IHostApplicationLifetime lifetime, TimeProvider time,
        WebSocket socket, CancellationToken aborted)
    {
        _options = options;
        _metrics = metrics;
        _lifetime = lifetime;
        _time = time;
        _socket = socket;
        _aborted = aborted;
        _write = new(Timeout.InfiniteTimeSpan, time);
        _idleTimer = time.CreateTimer(Fire, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _stopping = lifetime.ApplicationStopping.Register(Fire, this);
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
            _metrics.Answered(WebSocketShoutService.Transport, length, written);
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
        var stopping = _lifetime.ApplicationStopping;
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
        if (await Task.WhenAny(receive, Task.Delay(CloseTimeout, _time)) != receive)
        {
            _socket.Abort();
        }

        await ((Task)receive).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return reason;
    }

    private static void Fire(object? state) => Volatile.Read(ref ((WebSocketSession)state!)._wait)?.TrySetResult();

    // Closes on the server's initiative, then reads (and drops) what the client still sends until
    // its close frame: closing the socket with unread data would reset the connection, and a
    // reset can destroy the close frame, with its status code, before the client reads it.
    private async Task<CloseReason> CloseAsync(WebSocketCloseStatus status, string description, CloseReason reason)
    {
        await CloseOutputAsync(status, description);
        var drain = DrainAsync();
        if (await Task.WhenAny(drain, Task.Delay(CloseTimeout, _time)) != drain)
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
