using System.Buffers;
using System.Net.WebSockets;
using Shout.Text;

namespace Shout.Sessions;

/// <summary>
/// The message seam: one session whose unit is a message (a WebSocket message here; a UDP
/// datagram is the same seam with one message per datagram, answered in the UDP loop). Each
/// message is answered as it arrives, chunk by chunk: a chunk is uppercased (a character split
/// between chunks waits for the rest) and sent as a fragment of the answer, so a session holds
/// two small buffers whatever the message size, and a client that never reads holds back the
/// server's reads exactly as on TCP. Timeouts come from the core's engine; limits from the core.
/// Used by one loop; not thread-safe.
/// </summary>
internal sealed class MessageSession : DrainMember, ISessionTimeoutTarget, IDisposable
{
    /// <summary>Bytes read per chunk: small enough that a stalled client costs little, large enough for few calls.</summary>
    internal const int ChunkSize = 16 * 1024;

    // How long a closing handshake may take before the socket is simply aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly Session _session;
    private readonly SessionTimeouts _timeouts;
    private readonly int _maxMessageBytes;
    private readonly DrainSignal? _drain;
    private volatile bool _stopping;
    private readonly TimeProvider _clock;
    private TaskCompletionSource? _interrupt;
    private byte[]? _input;
    private byte[]? _output;
    private bool _inMessage;
    private FairTurn _turn;
    private bool _oversized;

    public MessageSession(WebSocket socket, Session session, SessionSettings settings, int maxMessageBytes, ShoutMetrics metrics,
        TimeProvider clock, DrainSignal? drain)
    {
        _socket = socket;
        _session = session;
        _maxMessageBytes = maxMessageBytes;
        _drain = drain;
        _clock = clock;
        _timeouts = new SessionTimeouts(settings, clock, metrics, this);
        // On the server's one drain list, as a stream session is (told at once if the drain has begun).
        drain?.Join(this);
    }

    /// <summary>The server's drain has reached the session.</summary>
    public bool Draining => _stopping;

    /// <summary>The timeout that ended the session, if one did.</summary>
    public CloseReason? Expired => _timeouts.Expired;

    /// <summary>Serves messages until the session ends; returns why.</summary>
    public async Task<CloseReason> RunAsync()
    {
        while (true)
        {
            if (_stopping)
            {
                return await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "server shutting down", CloseReason.ServerDrain);
            }

            var carry = 0;
            long total = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                // Idle between messages: no buffer is held while nothing arrives. The wait is a zero-byte
                // receive, which returns once a frame's header is in (none of its payload taken), so an
                // idle WebSocket holds no chunk; an empty message or a close ends it with nothing to read.
                var received = _input is null ? await ReceiveAsync(Memory<byte>.Empty) : null;
                if (_input is not null || received is { Count: 0, EndOfMessage: false, MessageType: not WebSocketMessageType.Close })
                {
                    _input ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
                    received = await ReceiveAsync(_input.AsMemory(carry, ChunkSize - carry));
                }

                if (received is not { } r)
                {
                    if (Volatile.Read(ref _oversized))
                    {
                        return await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_maxMessageBytes} bytes", CloseReason.MessageTooBig);
                    }

                    var reason = _stopping ? CloseReason.ServerDrain : _timeouts.Expired ?? CloseReason.IdleTimeout;
                    return await CloseAsync(reason == CloseReason.ServerDrain ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure,
                        reason == CloseReason.ServerDrain ? "server shutting down" : "idle timeout", reason);
                }

                result = r;
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "");
                    return CloseReason.ClientClosed;
                }

                _timeouts.Received();
                total += result.Count;
                if (total > _maxMessageBytes)
                {
                    return await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_maxMessageBytes} bytes", CloseReason.MessageTooBig);
                }

                _inMessage = !result.EndOfMessage;
                carry = await AnswerAsync(carry + result.Count, result.MessageType, result.EndOfMessage);
                if (_turn.Spend(result.Count))
                {
                    // Give the I/O thread back to the other sockets it serves (row 32).
                    await Task.Yield();
                }
            }
            while (!result.EndOfMessage);

            Release();
        }
    }

    // Uppercases what is in the input buffer and sends it as the next fragment of the answer; a
    // character cut at the chunk's end is moved to the front to be completed by the next chunk.
    private async Task<int> AnswerAsync(int length, WebSocketMessageType type, bool endOfMessage)
    {
        _output ??= ArrayPool<byte>.Shared.Rent(ShoutCase.MaxOutputLength(ChunkSize));
        ShoutCase.ToUpper(_input.AsSpan(0, length), _output, isFinalBlock: endOfMessage, out var consumed, out var written);
        if (written == 0 && !endOfMessage)
        {
            // Only part of a character so far: nothing to send until the rest arrives.
            return length;
        }

        // Counted as it is handed over, as on the stream seam: a client that has its answer finds it counted.
        _session.Answered(consumed, written);
        var send = _socket.SendAsync(_output.AsMemory(0, written), type, endOfMessage, CancellationToken.None);
        if (!send.IsCompleted)
        {
            // The client is not taking its answers: only the write timeout applies while this waits.
            _timeouts.WriteWaiting();
            try
            {
                await send;
            }
            finally
            {
                _timeouts.WriteDone();
            }
        }
        else
        {
            await send;
        }

        var left = length - consumed;
        _input.AsSpan(consumed, left).CopyTo(_input);
        return left;
    }

    // Null when the idle timeout or the server's stop came first (the receive is still pending then).
    private async Task<ValueWebSocketReceiveResult?> ReceiveAsync(Memory<byte> buffer)
    {
        var pending = _socket.ReceiveAsync(buffer, CancellationToken.None);
        if (pending.IsCompleted)
        {
            return await pending;
        }

        // A ValueTask is awaited once: the Task form lets the timeout race it.
        var receive = pending.AsTask();
        var interrupt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _interrupt, interrupt);

        // A timeout or stop that fired before the wait was published must not be lost.
        if (_timeouts.Expired is not null || Volatile.Read(ref _oversized) || (_stopping && !_inMessage))
        {
            interrupt.TrySetResult();
        }

        var winner = await Task.WhenAny(receive, interrupt.Task);
        Volatile.Write(ref _interrupt, null);
        if (winner == receive)
        {
            return await receive;
        }

        _pendingReceive = receive;
        return null;
    }

    private Task<ValueWebSocketReceiveResult>? _pendingReceive;

    /// <summary>Closes on the server's initiative, then reads (and drops) what the client still sends
    /// until its close frame: closing with unread data would reset the connection, and a reset can
    /// destroy the close frame, with its status code, before the client reads it.</summary>
    private async Task<CloseReason> CloseAsync(WebSocketCloseStatus status, string description, CloseReason reason)
    {
        await CloseOutputAsync(status, description);
        var drain = DrainAsync();
        if (await Task.WhenAny(drain, Task.Delay(CloseTimeout, _clock)) != drain)
        {
            _socket.Abort();
        }

        await drain.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return reason;
    }

    private async Task DrainAsync()
    {
        if (Interlocked.Exchange(ref _pendingReceive, null) is { } pending)
        {
            await pending;
        }

        _input ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
        while (_socket.State == WebSocketState.CloseSent)
        {
            await _socket.ReceiveAsync(_input.AsMemory(), CancellationToken.None);
        }
    }

    private async Task CloseOutputAsync(WebSocketCloseStatus status, string description)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout, _clock);
            await _socket.CloseOutputAsync(status, description, timeout.Token);
        }
    }

    /// <summary>The server drains: the message in progress is finished, then the session closes.</summary>
    public override void Drain()
    {
        _stopping = true;
        if (!_inMessage)
        {
            Interrupt();
        }
    }

    /// <summary>
    /// The client declared a message over the limit in a frame header (the transport watches them):
    /// stop waiting for its payload and close with 1009 now.
    /// </summary>
    public void RefuseOversized()
    {
        Volatile.Write(ref _oversized, true);
        Interrupt();
    }

    /// <inheritdoc />
    public void Interrupt() => Volatile.Read(ref _interrupt)?.TrySetResult();

    /// <inheritdoc />
    public void Abort() => _socket.Abort();

    private void Release()
    {
        if (_input is { } input)
        {
            _input = null;
            ArrayPool<byte>.Shared.Return(input);
        }

        if (_output is { } output)
        {
            _output = null;
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    public void Dispose()
    {
        _drain?.Leave(this);
        _timeouts.Dispose();
        Release();
    }
}
