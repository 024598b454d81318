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
