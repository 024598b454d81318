using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Transports.WebSockets;

/// <summary>
/// One WebSocket as a peer of the message seam, and its session's run: it receives each message
/// chunk by chunk into one small buffer and hands the chunks to the mode's <see cref="IProtocol"/>
/// (a character cut at a chunk's end is kept at the front for the next), sends what the protocol
/// answers (a fragment of the answer, of the message's type) or says (a text message), and closes
/// with the status its end calls for. A session holds two small pooled buffers whatever the message
/// size, and none while idle between messages; a client that never reads holds back the server's
/// reads exactly as on TCP. The idle and write timeouts are the core's engine; the drain lets the
/// message in progress finish; a message over the size limit closes with 1009. Opened and ended by
/// <see cref="SessionRunner"/>. One loop receives; the protocol's writer may send beside it.
/// </summary>
internal sealed class WebSocketPeer : DrainMember, ISessionTimeoutTarget, IPeer, ISessionRun, IDisposable
{
    /// <summary>Bytes read per chunk: small enough that a stalled client costs little, large enough for few calls.</summary>
    internal const int ChunkSize = 16 * 1024;

    // How long a closing handshake may take before the socket is simply aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    // How long a connection whose frame was refused stays open so the close frame reaches the client.
    private static readonly TimeSpan ProtocolErrorLinger = TimeSpan.FromSeconds(1);

    private readonly WebSocket _socket;
    private readonly IProtocolFactory _protocols;
    private readonly AnswerBuffer _answer = new();
    private readonly string _target;
    private readonly SessionSettings _settings;
    private readonly int _maxMessageBytes;
    private readonly ShoutMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly DrainSignal? _drain;
    private readonly CancellationToken _aborted;
    private Session? _session;
    private SessionTimeouts? _timeouts;
    private IProtocol? _protocol;
    private volatile bool _stopping;
    private TaskCompletionSource? _interrupt;
    private Task<ValueWebSocketReceiveResult>? _pendingReceive;
    private byte[]? _input;
    private bool _inMessage;
    private WebSocketMessageType _type;
    private FairTurn _turn;
    private bool _oversized;

    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="protocols">The mode's message protocol.</param>
    /// <param name="target">The request path after <c>/ws/</c>, one the protocol accepted (empty for <c>/ws</c>).</param>
    /// <param name="settings">The session's settings, as they were when it opened.</param>
    /// <param name="maxMessageBytes">The largest message (1009 past it).</param>
    /// <param name="metrics">Where the timeouts count.</param>
    /// <param name="clock">The time of the timeouts and the close.</param>
    /// <param name="drain">The server's drain list, joined while the session runs.</param>
    /// <param name="frames">The upgraded connection's frame-size guard, if the transport has one.</param>
    /// <param name="aborted">The HTTP connection went away.</param>
    public WebSocketPeer(WebSocket socket, IProtocolFactory protocols, string target, SessionSettings settings, int maxMessageBytes,
        ShoutMetrics metrics, TimeProvider clock, DrainSignal? drain, IOversizeSignal? frames = null, CancellationToken aborted = default)
    {
        _socket = socket;
        _protocols = protocols;
        _target = target;
        _settings = settings;
        _maxMessageBytes = maxMessageBytes;
        _metrics = metrics;
        _clock = clock;
        _drain = drain;
        _aborted = aborted;
        frames?.OnExceeded(RefuseOversized);
    }

    public Session Session => _session ?? throw new InvalidOperationException("the session is not open");

    public PeerSeam Seam => PeerSeam.Message;

    public SocketAddress? UnconfirmedAddress => null;

    public IBufferWriter<byte> Answer => _answer;

    public SessionState State => new(_protocol?.Abandoned, _timeouts?.Expired, _stopping, CloseReason.KeepAliveTimeout);

    /// <summary>Serves messages until the session ends; returns why.</summary>
    public async Task<CloseReason> RunAsync(Session session)
    {
        _session = session;
        _timeouts = new SessionTimeouts(_settings, _clock, _metrics, this);
        // On the server's one drain list, as a stream session is (told at once if the drain has begun).
        _drain?.Join(this);
        try
        {
            _protocol = _protocols.Start(this, _target, _settings);
            var reason = await ReceiveAsync(_protocol, _timeouts);
            reason = await _protocol.EndAsync(reason);
            return await CloseAsync(reason);
        }
        finally
        {
            if (_protocol is not null)
            {
                await _protocol.DisposeAsync();
            }
        }
    }

    public async ValueTask FailedAsync(CloseReason reason)
    {
        if (reason != CloseReason.ProtocolError)
        {
            return;
        }

        // The runtime refused a frame, sent its close frame and aborted. Ending the request at once would
        // reset the connection and could destroy that close frame in the client's buffer; linger briefly so it arrives.
        try
        {
            await Task.Delay(ProtocolErrorLinger, _clock, _aborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away first: nothing left to protect.
        }
    }

    private async Task<CloseReason> ReceiveAsync(IProtocol protocol, SessionTimeouts timeouts)
    {
        while (true)
        {
            if (_stopping)
            {
                return CloseReason.ServerDrain;
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
                    return Volatile.Read(ref _oversized) ? CloseReason.MessageTooBig
                        : _stopping ? CloseReason.ServerDrain : timeouts.Expired ?? CloseReason.IdleTimeout;
                }

                result = r;
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return CloseReason.ClientClosed;
                }

                timeouts.Received();
                total += result.Count;
                if (total > _maxMessageBytes)
                {
                    return CloseReason.MessageTooBig;
                }

                _inMessage = !result.EndOfMessage;
                _type = result.MessageType;
                var length = carry + result.Count;
                var turn = await protocol.ReceiveAsync(new ReadOnlySequence<byte>(_input.AsMemory(0, length)), result.EndOfMessage, draining: false);
                if (turn.Action != FrameAction.Continue)
                {
                    return turn.Action switch
                    {
                        FrameAction.Quit => CloseReason.Quit,
                        FrameAction.Gone => CloseReason.Reset,
                        _ => CloseReason.ProtocolError,
                    };
                }

                // What the protocol left (part of a character) waits at the front for the rest.
                carry = length - (int)turn.Consumed;
                _input.AsSpan((int)turn.Consumed, carry).CopyTo(_input);
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

    public async ValueTask<bool> SendLinesAsync(ReadOnlyMemory<byte> lines, bool more)
    {
        // One text message per line, without its terminator.
        while (!lines.IsEmpty)
        {
            var text = LineText.WithoutTerminator(LineText.Next(ref lines));
            await _socket.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            Session.Sent(text.Length);
            // A line reaching the peer (a room's) keeps it from idling.
            _timeouts?.Received();
        }

        return true;
    }

    // Pooled: an answer that waits (a client reading slowly) would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> AnswerAsync(long received, bool endOfMessage)
    {
        var answer = _answer.Written;
        if (answer.IsEmpty && !endOfMessage)
        {
            // Nothing to send yet (part of a character waits for the rest).
            Session.Answered(received, 0);
            return true;
        }

        // Counted as it is handed over, as on the stream seam: a client that has its answer finds it counted.
        Session.Answered(received, answer.Length);
        var send = _socket.SendAsync(answer, _type, endOfMessage, CancellationToken.None);
        if (!send.IsCompleted)
        {
            // The client is not taking its answers: only the write timeout applies while this waits.
            _timeouts!.WriteWaiting();
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

        // An answer message ended: an idle peer holds no answer buffer.
        if (endOfMessage)
        {
            _answer.Release();
        }
        else
        {
            _answer.Clear();
        }

        return true;
    }

    public void Kick() => _socket.Abort();

    // Null when the idle timeout, the server's stop or an oversized header came first (the receive is still pending then).
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
        if (_timeouts!.Expired is not null || Volatile.Read(ref _oversized) || (_stopping && !_inMessage))
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

    /// <summary>
    /// Closes with the status <paramref name="reason"/> calls for. On the server's initiative it then
    /// reads (and drops) what the client still sends until its close frame: closing with unread data
    /// would reset the connection, and a reset can destroy the close frame, with its status code,
    /// before the client reads it.
    /// </summary>
    private async Task<CloseReason> CloseAsync(CloseReason reason)
    {
        if (reason == CloseReason.ClientClosed)
        {
            await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "");
            return reason;
        }

        if (reason == CloseReason.SlowMember)
        {
            // Kicked: the socket is aborted already.
            return reason;
        }

        var (status, description) = reason switch
        {
            CloseReason.MessageTooBig => (WebSocketCloseStatus.MessageTooBig, $"message larger than {_maxMessageBytes} bytes"),
            CloseReason.ServerDrain => (WebSocketCloseStatus.EndpointUnavailable, "server shutting down"),
            CloseReason.IdleTimeout => (WebSocketCloseStatus.NormalClosure, "idle timeout"),
            _ => (WebSocketCloseStatus.NormalClosure, ShoutMetrics.ReasonName(reason)),
        };
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
    }

    public void Dispose()
    {
        _drain?.Leave(this);
        _timeouts?.Dispose();
        Release();
        _answer.Release();
    }
}
