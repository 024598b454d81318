using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>
/// A WebSocket conversation with a Shout (or any uppercase/echo) WebSocket server, the message
/// transport beside <see cref="ShoutDatagramClient"/>: each <see cref="SendAsync"/> is one message
/// (text by default, binary with <see cref="ShoutClientOptions.BinaryMessages"/>); replies are read
/// whole (<see cref="ReceiveMessageAsync"/>) or as they arrive (<see cref="ReceiveAsync"/>).
/// The server closing with 1000 (normal), 1001 (going away) or no code ends the conversation;
/// any other close code is a <see cref="WebSocketClosedException"/> that names it. One sender and one
/// receiver may run concurrently; not otherwise thread-safe.
/// </summary>
public sealed class ShoutWebSocketClient : IAsyncDisposable
{
    /// <summary>The largest frame sent: a longer message is sent as fragments of this size.</summary>
    public const int FrameSize = 64 * 1024;

    // How long a polite close at dispose may take before the connection is simply dropped.
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker _invoker;
    private readonly int _maxMessageBytes;
    private readonly Lock _closeGate = new();

    // Our close frame, sent once: the writer's half-close and the reader's answer to the server's
    // close can come at the same moment, and the second CloseOutputAsync would find the socket Closed.
    private Task? _closing;

    private ShoutWebSocketClient(ClientWebSocket socket, HttpMessageInvoker invoker, EndPoint remote, ShoutClientOptions options)
    {
        _socket = socket;
        _invoker = invoker;
        _maxMessageBytes = options.MaxMessageBytes;
        RemoteEndPoint = remote;
        MessageType = options.BinaryMessages ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
    }

    /// <summary>The address the TCP connection went to.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>The type every sent message has: text, or binary when the options asked for it.</summary>
    public WebSocketMessageType MessageType { get; }

    /// <summary>The code the server closed with, once it has; null before.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>
    /// Dials a <c>ws://</c> or <c>wss://</c> endpoint and completes the upgrade. Throws
    /// <see cref="System.Net.Sockets.SocketException"/> (refused, unreachable), <see cref="TimeoutException"/>,
    /// <see cref="System.Security.Authentication.AuthenticationException"/> (wss verification) or
    /// <see cref="IOException"/> (the server did not upgrade, e.g. HTTP 404).
    /// </summary>
    public static async Task<ShoutWebSocketClient> ConnectAsync(ShoutEndpoint endpoint, ShoutClientOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        if (endpoint.Transport != ShoutTransport.WebSocket)
        {
            throw new ArgumentException($"{endpoint} is not a ws:// or wss:// address", nameof(endpoint));
        }

        var (socket, invoker, remote) = await WebSocketDialer.ConnectAsync(endpoint, options, cancellationToken);
        return new ShoutWebSocketClient(socket, invoker, remote, options);
    }

    /// <summary>
    /// Sends <paramref name="message"/> as one whole message of <see cref="MessageType"/>; over
    /// <see cref="FrameSize"/> bytes it goes out in fragments of that size.
    /// </summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        try
        {
            // The runtime masks each frame in a pooled copy of its payload: fragments keep that copy
            // at 64 KiB however large the message.
            while (message.Length > FrameSize)
            {
                await _socket.SendAsync(message[..FrameSize], MessageType, endOfMessage: false, cancellationToken);
                message = message[FrameSize..];
            }

            await _socket.SendAsync(message, MessageType, endOfMessage: true, cancellationToken);
        }
        catch (WebSocketException e)
        {
            throw Broken(e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the WebSocket was aborted", e);
        }
    }

    /// <summary>
    /// Receives the next bytes of the replies, across message boundaries, into <paramref name="buffer"/>;
    /// 0 once the server has closed normally.
    /// </summary>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await ReceiveFrameAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await ClosedAsync();
                return 0;
            }

            // An empty frame (an empty message, or an empty last fragment) is not the end.
            if (result.Count > 0 || buffer.IsEmpty)
            {
                return result.Count;
            }
        }
    }

    /// <summary>
    /// Receives one whole reply message, joining its fragments; null once the server has closed
    /// normally. A message over <see cref="ShoutClientOptions.MaxMessageBytes"/> is an <see cref="IOException"/>.
    /// </summary>
    public async Task<(WebSocketMessageType Type, byte[] Data)?> ReceiveMessageAsync(CancellationToken cancellationToken = default)
    {
        var message = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var result = await ReceiveFrameAsync(message.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await ClosedAsync();
                return null;
            }

            message.Advance(result.Count);
            if (message.WrittenCount > _maxMessageBytes)
            {
                throw new IOException($"the server sent a message larger than {_maxMessageBytes} bytes");
            }

            if (result.EndOfMessage)
            {
                return (result.MessageType, message.WrittenSpan.ToArray());
            }
        }
    }

    /// <summary>
    /// Sends the close frame (1000): no more messages will come from this side; replies can still
    /// be received until the server closes too. Does nothing once closed.
    /// </summary>
    public async Task CloseOutputAsync(CancellationToken cancellationToken = default)
    {
        if (SendCloseOnce(cancellationToken) is not ({ } closing, true))
        {
            // Closed already, or the reader is answering the server's close: how it ended is the reader's to say.
            return;
        }

        try
        {
            await closing;
        }
        catch (WebSocketException e) when (e.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely)
        {
            // The server closed first (its close frame may be waiting unread, e.g. a 1008): the reader
            // says how the connection ended; our close not going out adds nothing to that.
        }
        catch (WebSocketException e)
        {
            throw Broken(e);
        }
    }

    /// <summary>
    /// Starts our close frame unless it was started before or the socket can no longer send one.
    /// The task is the one close; Mine is true for the caller that started it.
    /// </summary>
    private (Task? Closing, bool Mine) SendCloseOnce(CancellationToken cancellationToken)
    {
        lock (_closeGate)
        {
            if (_closing is not null)
            {
                return (_closing, false);
            }

            if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                return (null, false);
            }

            _closing = _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
            return (_closing, true);
        }
    }

    /// <summary>Drops the connection at once, without a closing handshake.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Closes politely when still open (close frame, then the server's, briefly), then releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var wait = new CancellationTokenSource(CloseWait);
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", wait.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                // A peer that does not answer the close loses nothing we still wanted.
            }
        }

        _socket.Dispose();
        _invoker.Dispose();
    }

    /// <summary>The one-line description of a close code, as the CLI prints it.</summary>
    internal static string DescribeClose(WebSocketCloseStatus status, string? description)
    {
        var code = ((int)status).ToString(CultureInfo.InvariantCulture);
        var name = Enum.IsDefined(status) ? $" ({status})" : "";
        var why = string.IsNullOrEmpty(description) ? "" : $": {description}";
        return $"the server closed the WebSocket with {code}{name}{why}";
    }

    private async ValueTask<ValueWebSocketReceiveResult> ReceiveFrameAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, cancellationToken);
        }
        catch (WebSocketException e)
        {
            throw Broken(e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Abort() ends a pending receive this way; to a reader it is a dropped connection.
            throw new IOException("the WebSocket was aborted", e);
        }
    }

    // The server's close arrived: answer it (the closing handshake) unless ours went first, then judge its code.
    private async ValueTask ClosedAsync()
    {
        if (_socket.State == WebSocketState.CloseReceived)
        {
            using var wait = new CancellationTokenSource(CloseWait);
            try
            {
                if (SendCloseOnce(wait.Token).Closing is { } closing)
                {
                    await closing.WaitAsync(wait.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server may drop the connection right after its close frame; nothing is lost.
            }
        }

        if (_socket.CloseStatus is { } status && status is not (WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.EndpointUnavailable
            or WebSocketCloseStatus.Empty))
        {
            throw new WebSocketClosedException(status, _socket.CloseStatusDescription);
        }
    }

    private static IOException Broken(WebSocketException e) => e.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely
        ? new IOException("the server dropped the connection without a WebSocket close", e)
        : new IOException($"WebSocket error: {e.Message}", e);
}
