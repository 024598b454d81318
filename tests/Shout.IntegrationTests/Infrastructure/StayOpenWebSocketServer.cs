using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A WebSocket server for client tests that never sends its close: it completes the upgrade at any
/// path and then, as told, answers each message with its uppercase (<see cref="Mode.Answer"/>) or
/// answers nothing (<see cref="Mode.Silent"/>); the client's close frame is read and left unanswered,
/// and the connection stays open until the server is disposed. (Shout's own /ws answers the close.)
/// </summary>
internal sealed class StayOpenWebSocketServer : LoopbackTestServer
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private readonly Mode _mode;

    public enum Mode
    {
        Answer,
        Silent,
    }

    public StayOpenWebSocketServer(Mode mode)
    {
        _mode = mode;
        StartAccepting();
    }

    public string Address => $"ws://127.0.0.1:{Port}/ws";

    protected override async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var key = await ReadUpgradeKeyAsync(stream);
            var accept = AcceptKey(key);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), Stop.Token);
            using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, Stop.Token);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // The close is never answered: the client must end the wait itself.
                    await Task.Delay(Timeout.Infinite, Stop.Token);
                }

                if (_mode == Mode.Answer)
                {
                    var upper = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(message.ToArray()).ToUpperInvariant());
                    await socket.SendAsync(upper, result.MessageType, endOfMessage: true, Stop.Token);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException or WebSocketException)
        {
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350",
        Justification = "RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept; it protects nothing here")]
    private static string AcceptKey(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));

    /// <summary>Reads the HTTP upgrade request up to its blank line; its Sec-WebSocket-Key.</summary>
    private async Task<string> ReadUpgradeKeyAsync(NetworkStream stream)
    {
        var request = new StringBuilder();
        var one = new byte[1];
        while (!request.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, Stop.Token) == 0)
            {
                throw new IOException("the client closed before its upgrade request ended");
            }

            request.Append((char)one[0]);
        }

        return request.ToString().Split("\r\n")
            .Select(line => line.Split(':', 2))
            .First(parts => parts.Length == 2 && parts[0].Trim().Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))[1].Trim();
    }
}
