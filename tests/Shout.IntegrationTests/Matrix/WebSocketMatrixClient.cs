using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Matrix;

/// <summary>
/// A <see cref="ClientWebSocket"/> to <c>/ws</c> (or <c>wss://</c>, the server's certificate pinned),
/// dialled from a chosen local address through <see cref="SocketsHttpHandler.ConnectCallback"/>, which
/// also keeps the socket for a reset or raw bytes. Independent of the CLI's WebSocket client.
/// </summary>
internal sealed class WebSocketMatrixClient : MatrixClient
{
    private readonly HttpMessageInvoker _invoker;
    private readonly Socket _socket;
    private byte[]? _receiveBuffer;

    private WebSocketMatrixClient(ClientWebSocket webSocket, HttpMessageInvoker invoker, Socket socket)
    {
        WebSocket = webSocket;
        _invoker = invoker;
        _socket = socket;
    }

    public ClientWebSocket WebSocket { get; }

    public override Socket RawSocket => _socket;

    public override int? LocalPort => (_socket.LocalEndPoint as IPEndPoint)?.Port;

    /// <summary>The <c>/ws</c> URI of the server's web endpoint, <c>ws://</c> or <c>wss://</c>.</summary>
    public static Uri Uri(TestServer server, bool secure)
    {
        var web = server.Server.WebAddress ?? throw new Xunit.Sdk.XunitException("the server has no web endpoint");
        return new UriBuilder(web) { Scheme = secure ? "wss" : "ws", Path = "/ws" }.Uri;
    }

    public static Task<MatrixClient> ConnectAsync(TestServer server, bool secure, IPAddress from) =>
        ConnectAsync(Uri(server, secure), secure ? StreamMatrixClient.Pinned(server) : null, from);

    /// <summary>Dials <paramref name="uri"/> (<c>ws://</c>, or <c>wss://</c> trusting what <paramref name="validate"/> trusts).</summary>
    public static async Task<MatrixClient> ConnectAsync(Uri uri, System.Net.Security.RemoteCertificateValidationCallback? validate, IPAddress from)
    {
        Socket? socket = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var target = new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host.Trim('[', ']')), context.DnsEndPoint.Port);
                socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(target, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        if (validate is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validate;
        }

        var invoker = new HttpMessageInvoker(handler);
        var webSocket = new ClientWebSocket();
        webSocket.Options.CollectHttpResponseDetails = true;
        // No client pings: the server's idle and write timeouts must see only what a test sends.
        webSocket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            using var timeout = new CancellationTokenSource(Deadline);
            await webSocket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
        {
            var status = webSocket.HttpStatusCode;
            webSocket.Dispose();
            invoker.Dispose();
            throw new RefusedException(status == 0 ? $"upgrade failed, no HTTP response: {e.Message}" : $"HTTP {(int)status} instead of the upgrade", e);
        }

        return new WebSocketMatrixClient(webSocket, invoker, socket!);
    }

    public override Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WebSocket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).AsTask();

    public override async Task<Ending> ReceiveAsync(int count, TimeSpan? quiet = null)
    {
        using var deadline = new CancellationTokenSource(quiet ?? Deadline);
        var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (output.Length < count)
            {
                var result = await WebSocket.ReceiveAsync(buffer.AsMemory(), deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    var code = (int?)WebSocket.CloseStatus;
                    var description = WebSocket.CloseStatusDescription ?? "";
                    await CloseAsync();
                    return new Ending(output.ToArray(), EndKind.Closed, code, description);
                }

                output.Write(buffer, 0, result.Count);
            }

            return new Ending(output.ToArray(), EndKind.Open, null, "");
        }
        catch (OperationCanceledException)
        {
            // A cancelled receive aborts a ClientWebSocket: the connection is over either way.
            return new Ending(output.ToArray(), EndKind.Open, null, $"nothing more within {(quiet ?? Deadline).TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            return new Ending(output.ToArray(), EndKind.Reset, (int?)WebSocket.CloseStatus, e.Message);
        }
    }

    /// <summary>The next message, or null at the server's close frame (not answered: the caller closes when its sends are done).</summary>
    public override async Task<byte[]?> ReceiveSomeAsync(CancellationToken cancellationToken)
    {
        // One buffer per client: a new 64 KiB array (and stream) per message made streaming clients' garbage the
        // test process's main CPU cost, competing with the server it measures.
        _receiveBuffer ??= new byte[64 * 1024];
        MemoryStream? output = null;
        while (true)
        {
            var result = await WebSocket.ReceiveAsync(_receiveBuffer.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            if (result.EndOfMessage && output is null)
            {
                return _receiveBuffer[..result.Count];
            }

            output ??= new MemoryStream();
            output.Write(_receiveBuffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return output.ToArray();
            }
        }
    }

    public override async Task CloseAsync()
    {
        if (WebSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(Deadline);
                await WebSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }

    public override void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public override async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes);

    public override ValueTask DisposeAsync()
    {
        WebSocket.Dispose();
        _invoker.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
