using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Shout.Toxics;

/// <summary>
/// One direction of a ws proxy connection, a message at a time: the reader takes each whole
/// message (its fragments joined, at most <see cref="MaxMessageBytes"/>) with the time it was read,
/// and a writer passes it through the toxics and sends it on as one message of the same type (the
/// toxics may send it as several frames: slicer, bandwidth), so the reader keeps reading while the
/// writer waits out a latency. A close frame is forwarded after the messages before it, with its
/// code and reason. Bounded: the reader takes no new message while <see cref="QueueBytes"/> wait,
/// so a direction holds at most the message being read, the queue and the message being sent;
/// when the receiving peer stops reading, the send waits, the reader stops reading, and the
/// sender's TCP window closes, as on a stream proxy.
/// </summary>
internal sealed class MessagePump
{
    /// <summary>The largest message forwarded (as the Shout server's own default); a bigger one closes both sides with 1009.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    /// <summary>Payload bytes queued for the writer before the reader waits.</summary>
    public const int QueueBytes = 64 * 1024;

    private const int FirstBuffer = 16 * 1024;

    private readonly MessageConnection _connection;
    private readonly WebSocket _from;
    private readonly WebSocket _to;
    private readonly ToxicStream _stream;
    private readonly Channel<Message> _queue = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private TaskCompletionSource _drained = NewSignal();
    private readonly Dictionary<ToxicSpec, long> _limited = new(ReferenceEqualityComparer.Instance);
    private long _queued;
    private long _bandwidthDue;
    private bool _paced;

    public MessagePump(MessageConnection connection, WebSocket from, WebSocket to, ToxicStream stream)
    {
        _connection = connection;
        _from = from;
        _to = to;
        _stream = stream;
    }

    public Task RunAsync() => Task.WhenAll(ReadAsync(), WriteAsync());

    private CancellationToken Ended => _connection.Ended;

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                // While the proxy is closing the writer sends nothing more: no wait, the reader only drops.
                while (!_connection.Closing.IsCancellationRequested)
                {
                    // The signal before the count: a message sent in between completes the signal awaited.
                    var drained = Volatile.Read(ref _drained);
                    if (Volatile.Read(ref _queued) < QueueBytes)
                    {
                        break;
                    }

                    try
                    {
                        await drained.Task.WaitAsync(_connection.Closing).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!Ended.IsCancellationRequested)
                    {
                    }
                }

                var message = await ReceiveAsync().ConfigureAwait(false);
                if (message is null)
                {
                    // Too big: the proxy is closing both sides; read on (and drop) until the peer's close frame.
                    continue;
                }

                if (message.Value.Type == WebSocketMessageType.Close)
                {
                    _queue.Writer.TryWrite(message.Value);
                    return;
                }

                if (_connection.Closing.IsCancellationRequested)
                {
                    // The proxy is closing: what a peer sends until its close frame goes nowhere.
                    ArrayPool<byte>.Shared.Return(message.Value.Buffer);
                    continue;
                }

                Interlocked.Add(ref _queued, message.Value.Length);
                _queue.Writer.TryWrite(message.Value);
            }
        }
        catch (WebSocketException)
        {
            // The peer reset, vanished or broke the protocol: the other peer is told by a reset.
            _connection.Abort();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>One whole message (or a close frame); null when the message was too big (the proxy closes both sides).</summary>
    private async Task<Message?> ReceiveAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FirstBuffer);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= MaxMessageBytes)
                    {
                        _connection.BeginClose(WebSocketCloseStatus.MessageTooBig, $"a message is at most {MaxMessageBytes} bytes through the proxy");
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxMessageBytes));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var limit = Math.Min(buffer.Length, MaxMessageBytes);
                var result = await _from.ReceiveAsync(buffer.AsMemory(length, limit - length), Ended).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new Message([], 0, WebSocketMessageType.Close, 0, _from.CloseStatus, _from.CloseStatusDescription);
                }

                length += result.Count;
                if (result.EndOfMessage)
                {
                    return new Message(buffer, length, result.MessageType, Stopwatch.GetTimestamp(), null, null);
                }

                if (length == limit && limit < buffer.Length)
                {
                    // The pool gave more than the cap: the cap is reached.
                    _connection.BeginClose(WebSocketCloseStatus.MessageTooBig, $"a message is at most {MaxMessageBytes} bytes through the proxy");
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private async Task WriteAsync()
    {
        try
        {
            try
            {
                await foreach (var message in _queue.Reader.ReadAllAsync(_connection.Closing).ConfigureAwait(false))
                {
                    try
                    {
                        if (message.Type == WebSocketMessageType.Close)
                        {
                            await ForwardCloseAsync(message).ConfigureAwait(false);
                            return;
                        }

                        if (!await ForwardAsync(message).ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                    finally
                    {
                        if (message.Type != WebSocketMessageType.Close)
                        {
                            ArrayPool<byte>.Shared.Return(message.Buffer);
                        }

                        Interlocked.Add(ref _queued, -message.Length);
                        Interlocked.Exchange(ref _drained, NewSignal()).TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException) when (_connection.Closing.IsCancellationRequested && !Ended.IsCancellationRequested)
            {
            }

            if (_connection.Closing.IsCancellationRequested && !Ended.IsCancellationRequested && _to.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var (status, reason) = _connection.CloseFrame;
                await _to.CloseOutputAsync(status, reason, Ended).ConfigureAwait(false);
            }
        }
        catch (WebSocketException)
        {
            _connection.Abort();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The peer's close frame, after the messages before it and any slow_close delay, with its code and reason.</summary>
    private async Task ForwardCloseAsync(Message close)
    {
        foreach (var toxic in Mine())
        {
            if (toxic.Type == "slow_close")
            {
                await Task.Delay(TimeSpan.FromMilliseconds(toxic["delay"]), Ended).ConfigureAwait(false);
            }
        }

        if (_to.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            // A close frame without a code (1005) is forwarded without one.
            var status = close.CloseStatus ?? WebSocketCloseStatus.Empty;
            await _to.CloseOutputAsync(status, status == WebSocketCloseStatus.Empty ? null : close.CloseReason, Ended).ConfigureAwait(false);
        }
    }

    /// <summary>The toxics of this direction that act on this connection, in the proxy's order.</summary>
    private IEnumerable<ToxicSpec> Mine()
    {
        foreach (var toxic in _connection.Toxics.Current)
        {
            if (toxic.Stream == _stream && _connection.Applies(toxic))
            {
                yield return toxic;
            }
        }
    }

    /// <summary>Sends one message through the toxics; false when the connection ends here.</summary>
    private async Task<bool> ForwardAsync(Message message)
    {
        var data = message.Buffer.AsMemory(0, message.Length);
        ToxicSpec? slicer = null;
        ToxicSpec? bandwidth = null;
        var cut = false;
        var closeAfter = false;
        foreach (var toxic in Mine())
        {
            switch (toxic.Type)
            {
                case "latency":
                    // From when the message was read, so messages queued behind it are not delayed twice.
                    var delay = toxic["latency"] + _connection.Random.Spread(toxic["jitter"]);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), message.ReadAt + (delay * Stopwatch.Frequency / 1000));
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, Ended).ConfigureAwait(false);
                    }

                    break;
                case "timeout":
                    // "Cable unplugged": nothing gets through; the connection's clock closes it on time.
                    return true;
                case "reset_peer":
                    await Task.Delay(TimeSpan.FromMilliseconds(toxic["timeout"]), Ended).ConfigureAwait(false);
                    _connection.Abort();
                    return false;
                case "limit_data":
                    _limited.TryGetValue(toxic, out var sent);
                    var left = Math.Max(0, toxic["bytes"] - sent);
                    if (left < data.Length)
                    {
                        data = data[..(int)left];
                        cut = true;
                    }

                    _limited[toxic] = sent + data.Length;
                    closeAfter |= sent + data.Length >= toxic["bytes"];
                    break;
                case "slicer":
                    slicer = toxic;
                    break;
                case "bandwidth":
                    bandwidth = toxic;
                    break;
                default:
                    break;
            }
        }

        // A message cut by limit_data goes as a fragment that never ends: the peer never takes the
        // part for a whole message; the close frame follows.
        if (!cut || data.Length > 0)
        {
            await SendAsync(data, message.Type, !cut, slicer, bandwidth, message.ReadAt).ConfigureAwait(false);
        }

        if (closeAfter)
        {
            _connection.BeginClose(WebSocketCloseStatus.NormalClosure, "limit_data");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Sends a message's payload: in one frame, or as continuation frames of average_size ±
    /// size_variation bytes <c>delay</c> µs apart (slicer), paced at the bandwidth toxic's rate
    /// (KB/s of payload) in frames of 50 ms worth; credit only for time the message was waiting.
    /// </summary>
    private async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type, bool endOfMessage, ToxicSpec? slicer, ToxicSpec? bandwidth, long readAt)
    {
        var rate = bandwidth?["rate"] * 1000 ?? 0;
        if (rate > 0)
        {
            _bandwidthDue = _paced ? Math.Max(_bandwidthDue, readAt) : Stopwatch.GetTimestamp();
        }

        _paced = rate > 0;
        if (data.Length == 0 || (slicer is null && rate <= 0))
        {
            await _to.SendAsync(data, type, endOfMessage, Ended).ConfigureAwait(false);
            return;
        }

        var step = rate > 0 ? (int)Math.Max(1, Math.Min(rate / 20, FirstBuffer)) : int.MaxValue;
        var pause = slicer is null ? TimeSpan.Zero : TimeSpan.FromMicroseconds(slicer["delay"]);
        while (data.Length > 0)
        {
            var slice = slicer is null
                ? data.Length
                : (int)Math.Clamp(slicer["average_size"] + _connection.Random.Spread(slicer["size_variation"]), 1, data.Length);
            var piece = data[..slice];
            data = data[slice..];
            while (piece.Length > 0)
            {
                var size = Math.Min(step, piece.Length);
                if (rate > 0)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _bandwidthDue);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, Ended).ConfigureAwait(false);
                    }

                    _bandwidthDue += size * Stopwatch.Frequency / rate;
                }

                await _to.SendAsync(piece[..size], type, endOfMessage && data.Length == 0 && size == piece.Length, Ended).ConfigureAwait(false);
                piece = piece[size..];
            }

            if (data.Length > 0 && pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, Ended).ConfigureAwait(false);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="Buffer">The pooled array holding it (empty for a close frame).</param>
    /// <param name="Length">Payload bytes.</param>
    /// <param name="Type">Text, binary or close.</param>
    /// <param name="ReadAt">When it was read (latency counts from here).</param>
    /// <param name="CloseStatus">A close frame's code.</param>
    /// <param name="CloseReason">A close frame's reason.</param>
    private readonly record struct Message(byte[] Buffer, int Length, WebSocketMessageType Type, long ReadAt,
        WebSocketCloseStatus? CloseStatus, string? CloseReason);
}
