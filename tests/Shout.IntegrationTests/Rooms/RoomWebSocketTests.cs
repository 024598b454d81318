using System.Net.WebSockets;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;

namespace Shout.IntegrationTests.Rooms;

/// <summary>A WebSocket member (the page's transport) in the same room as a TCP member.</summary>
public sealed class RoomWebSocketTests
{
    [Fact]
    public async Task A_websocket_member_and_a_tcp_member_hear_each_other_and_who_and_quit_work()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        await using var tcp = await RoomClient.JoinAsync(server.Endpoint, "tcp");
        using var ws = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.ConnectAsync(server.WebSocketUri(), timeout.Token);

        await SendAsync(ws, "/nick web", timeout.Token);
        Assert.Equal("OK nick web", await ReceiveUntilAsync(ws, m => m.StartsWith("OK", StringComparison.Ordinal), timeout.Token));
        await SendAsync(ws, "hello from the page", timeout.Token);
        Assert.Equal("HELLO FROM THE PAGE", await ReceiveUntilAsync(ws, m => !m.StartsWith('*'), timeout.Token));
        Assert.Equal("web: HELLO FROM THE PAGE", await tcp.ReadUntilAsync(l => !l.StartsWith('*')));

        await tcp.SendAsync("hello from tcp");
        Assert.Equal("tcp: HELLO FROM TCP", await ReceiveUntilAsync(ws, m => !m.StartsWith('*'), timeout.Token));
        await SendAsync(ws, "/who", timeout.Token);
        Assert.Equal("WHO lobby tcp web", await ReceiveUntilAsync(ws, m => m.StartsWith("WHO", StringComparison.Ordinal), timeout.Token));

        await SendAsync(ws, "quit", timeout.Token);
        Assert.Equal("QUIT", await ReceiveUntilAsync(ws, m => !m.StartsWith('*'), timeout.Token));
        Assert.Equal("* web left lobby", await tcp.ReadUntilAsync(l => l.Contains("left", StringComparison.Ordinal)));
        var close = await ws.ReceiveAsync(new byte[256], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        await Eventually.TrueAsync(() => server.Metrics.Snapshot().Any(t => t.Transport == "ws" && t.Closed == 1), TimeSpan.FromSeconds(10),
            () => "the ws member's close was not recorded");
    }

    [Fact]
    public async Task A_websocket_opened_on_ws_slash_room_is_in_that_room_from_its_first_line()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        await using var kitchen = await RoomClient.JoinAsync(server.Endpoint, "cook");
        await kitchen.SendAsync("/join kitchen");
        await kitchen.ReadUntilAsync("OK room kitchen");
        await using var lobby = await RoomClient.JoinAsync(server.Endpoint, "idler");
        using var ws = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.ConnectAsync(new UriBuilder(server.WebSocketUri()) { Path = "/ws/kitchen" }.Uri, timeout.Token);

        var greeting = await ReceiveUntilAsync(ws, m => m.StartsWith("* you are", StringComparison.Ordinal), timeout.Token);
        Assert.EndsWith(" in kitchen (/nick NAME, /join ROOM, /who, quit)", greeting, StringComparison.Ordinal);
        await SendAsync(ws, "/nick web", timeout.Token);
        await ReceiveUntilAsync(ws, m => m == "OK nick web", timeout.Token);
        await SendAsync(ws, "soup is ready", timeout.Token);
        Assert.Equal("web: SOUP IS READY", await kitchen.ReadUntilAsync(l => !l.StartsWith('*')));
        await SendAsync(ws, "/who", timeout.Token);
        Assert.Equal("WHO kitchen cook web", await ReceiveUntilAsync(ws, m => m.StartsWith("WHO", StringComparison.Ordinal), timeout.Token));

        // The lobby heard nothing of it: its next line is its own answer.
        await lobby.SendAsync("still here");
        Assert.Equal("STILL HERE", await lobby.ReadUntilAsync(l => !l.StartsWith('*')));
    }

    [Theory]
    [InlineData(ShoutMode.Room, "/ws/no.dots", "not a room name")]
    [InlineData(ShoutMode.Room, "/ws/" + "a123456789a123456789a123456789a12", "not a room name")]
    [InlineData(ShoutMode.Stream, "/ws/lobby", "room mode only")]
    public async Task A_ws_path_the_mode_does_not_serve_is_a_404_with_its_reason_before_any_upgrade(ShoutMode mode, string path, string reason)
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = mode;
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(new UriBuilder(server.WebSocketUri()) { Path = path }.Uri, timeout.Token));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, ws.HttpStatusCode);
        using var http = new HttpClient();
        var refusal = await http.GetAsync(new UriBuilder(server.WebSocketUri()) { Scheme = "http", Path = path }.Uri, timeout.Token);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refusal.StatusCode);

        // No session was opened for it, and the server still serves /ws.
        Assert.DoesNotContain(server.Metrics.Snapshot(), t => t.Transport == "ws" && t.Accepted > 0);
        using var served = new ClientWebSocket();
        await served.ConnectAsync(server.WebSocketUri(), timeout.Token);
        Assert.Equal(WebSocketState.Open, served.State);
        Assert.Contains(reason, await RefusalTextAsync(server, path, timeout.Token), StringComparison.Ordinal);
    }

    /// <summary>The body of the 404 an upgrade to <paramref name="path"/> gets, read over a raw connection.</summary>
    private static async Task<string> RefusalTextAsync(TestServer server, string path, CancellationToken cancellationToken)
    {
        var web = server.WebSocketUri();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(web.Host, web.Port, cancellationToken);
        var stream = tcp.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: {web.Host}:{web.Port}\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static Task SendAsync(ClientWebSocket ws, string text, CancellationToken cancellationToken) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);

    private static async Task<string> ReceiveUntilAsync(ClientWebSocket ws, Func<string, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffer = new byte[64 * 1024];
            var total = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await ws.ReceiveAsync(buffer.AsMemory(total), cancellationToken);
                total += result.Count;
            }
            while (!result.EndOfMessage);

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            var text = Encoding.UTF8.GetString(buffer, 0, total);
            if (match(text))
            {
                return text;
            }
        }
    }
}
