using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Shout.Protocols;
using Shout.Sessions;
using Shout.Tests.Rooms;
using Shout.Transports.WebSockets;

namespace Shout.Tests.Transports.WebSockets;

/// <summary>
/// Issue 20: an idle WebSocket holds no receive buffer. <see cref="WebSocketPeer"/> (driving the echo, <see cref="FramedProtocol"/>) waits for the next
/// message with a zero-byte receive and takes its chunk only once a frame has arrived; messages, an
/// empty message and the client's close are served as before.
/// </summary>
public sealed class WebSocketPeerIdleTests
{
    [Fact]
    public async Task Between_messages_the_pending_receive_has_no_buffer_and_every_message_is_still_answered()
    {
        using var meters = new TestMeters();
        var metrics = new ShoutMetrics(meters);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var dialed = new TcpClient();
        await dialed.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        using var client = WebSocket.CreateFromStream(dialed.GetStream(), new WebSocketCreationOptions { IsServer = false });
        using var server = new RecordingWebSocket(WebSocket.CreateFromStream(accepted.GetStream(), new WebSocketCreationOptions { IsServer = true }));

        var session = new Session(metrics, "t1", TransportKind.Ws, "test", 0, null);
        using var peer = new WebSocketPeer(server, FramedProtocol.Echo, "", new SessionSettings(), 1 << 20, metrics, TimeProvider.System, drain: null);
        var run = peer.RunAsync(session);

        // Idle before the first message: waiting, with nothing to read into.
        await server.IdleAsync();

        var big = Encoding.ASCII.GetBytes(new string('a', 40_000));
        byte[][] sent = ["hello"u8.ToArray(), big, []];
        foreach (var message in sent)
        {
            await client.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            Assert.Equal(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(message).ToUpperInvariant()), await ReceiveMessageAsync(client));

            // Idle again after each answer.
            await server.IdleAsync();
        }

        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        Assert.Equal(CloseReason.ClientClosed, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(WebSocketMessageType.Close, (await client.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30))).MessageType);
    }

    private static async Task<byte[]> ReceiveMessageAsync(WebSocket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            received.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return received.ToArray();
            }
        }
    }

    /// <summary>The server's socket, telling the test the size of the buffer each pending receive waits with.</summary>
    private sealed class RecordingWebSocket(WebSocket inner) : WebSocket
    {
        private readonly Lock _gate = new();
        private int? _pendingLength;

        /// <summary>Waits until a receive is pending, then asserts that it waits with no buffer.</summary>
        public async Task IdleAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                lock (_gate)
                {
                    if (_pendingLength is { } length)
                    {
                        Assert.Equal(0, length);
                        return;
                    }
                }

                Assert.True(DateTime.UtcNow < deadline, "no receive pending within 30 s");
                await Task.Delay(10);
            }
        }

        public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var pending = inner.ReceiveAsync(buffer, cancellationToken);
            if (pending.IsCompleted)
            {
                return await pending;
            }

            lock (_gate)
            {
                _pendingLength = buffer.Length;
            }

            try
            {
                return await pending;
            }
            finally
            {
                lock (_gate)
                {
                    _pendingLength = null;
                }
            }
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            inner.ReceiveAsync(buffer, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override void Abort() => inner.Abort();

        public override void Dispose() => inner.Dispose();

        public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

        public override string? CloseStatusDescription => inner.CloseStatusDescription;

        public override WebSocketState State => inner.State;

        public override string? SubProtocol => inner.SubProtocol;
    }
}
