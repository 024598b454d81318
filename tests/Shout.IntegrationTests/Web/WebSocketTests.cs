using System.Net;
using System.Net.WebSockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;
using Shout.Text;

namespace Shout.IntegrationTests.Web;

public sealed class WebSocketTests
{
    [Fact]
    public async Task A_text_message_is_answered_with_its_uppercase_as_text()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await server.ConnectWebSocketAsync();
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello world ıȿ😀"), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal(Encoding.UTF8.GetString(ShoutCase.ToUpper(Encoding.UTF8.GetBytes("hello world ıȿ😀"))), await socket.ReceiveTextAsync());
        await socket.SendAsync("second"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("SECOND", await socket.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_binary_message_is_answered_as_binary_with_bytes_that_are_not_UTF8_unchanged()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await server.ConnectWebSocketAsync();
        byte[] input = [(byte)'a', 0xFF, 0xC3, 0x28, (byte)'z', 0x00];
        await socket.SendAsync(input, WebSocketMessageType.Binary, true, CancellationToken.None);
        var (type, data) = await socket.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[] { (byte)'A', 0xFF, 0xC3, 0x28, (byte)'Z', 0x00 }, data);
    }

    [Fact]
    public async Task A_fragmented_message_split_inside_a_character_is_answered_whole()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await server.ConnectWebSocketAsync();
        var bytes = Encoding.UTF8.GetBytes("aȿ😀b");

        // Binary fragments may split a character anywhere; the answer is still one uppercased message.
        foreach (var b in bytes[..^1])
        {
            await socket.SendAsync(new[] { b }, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
        }

        await socket.SendAsync(bytes[^1..], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var (type, data) = await socket.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(ShoutCase.ToUpper(bytes), data);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'h', 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    public async Task Invalid_UTF8_in_a_text_message_closes_with_1007(byte[] payload)
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendFrameAsync(0x1, "fine "u8.ToArray());
        Assert.Equal("FINE ", Encoding.UTF8.GetString((await socket.ReadFrameAsync()).Payload));
        await socket.SendFrameAsync(0x1, payload);
        Assert.Equal(1007, await socket.ReadCloseAsync());
        socket.Dispose();
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(CloseReason.ProtocolError, server.Server.Services.GetEvents()[^1].Reason);
    }

    [Fact]
    public async Task Invalid_UTF8_split_across_text_fragments_closes_with_1007()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendFrameAsync(0x1, [(byte)'a', 0xE2], fin: false);
        await socket.SendFrameAsync(0x0, [0x28, 0xA1], fin: true);
        Assert.Equal(1007, await socket.ReadCloseAsync());
    }

    [Fact]
    public async Task A_valid_character_split_across_text_fragments_is_answered_whole()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        var bytes = Encoding.UTF8.GetBytes("ȿ😀");
        await socket.SendFrameAsync(0x1, bytes[..1], fin: false);
        await socket.SendFrameAsync(0x0, bytes[1..3], fin: false);
        await socket.SendFrameAsync(0x0, bytes[3..], fin: true);
        // Answered as it arrives: a text frame, then continuations, with the split character whole.
        var (opcode, reply) = await socket.ReadFrameAsync();
        Assert.Equal(0x1, opcode);
        var whole = new List<byte>(reply);
        while (whole.Count < ShoutCase.ToUpper(bytes).Length)
        {
            var (continuation, more) = await socket.ReadFrameAsync();
            Assert.Equal(0x0, continuation);
            whole.AddRange(more);
        }

        Assert.Equal(ShoutCase.ToUpper(bytes), whole);
    }

    [Fact]
    public async Task A_message_over_the_limit_closes_with_1009_and_one_at_the_limit_is_answered()
    {
        await using var server = await WebServer.StartAsync(w => w.MaxMessageBytes = 10_000);
        using var socket = await server.ConnectWebSocketAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(new string('a', 10_000)), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal(new string('A', 10_000), await socket.ReceiveTextAsync());

        // Over the limit in fragments: the server stops reading at the limit, it does not buffer the rest.
        for (var i = 0; i < 3; i++)
        {
            await socket.SendAsync(new byte[4000], WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
        }

        var (type, _) = await socket.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task The_client_closing_is_answered_with_a_close_and_counted()
    {
        await using var server = await WebServer.StartAsync();
        using (var socket = await server.ConnectWebSocketAsync())
        {
            await socket.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("HI", await socket.ReceiveTextAsync());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            Assert.Equal(WebSocketState.Closed, socket.State);
        }

        await server.WaitForNoConnectionsAsync();
        var closed = server.Server.Services.GetEvents()[^1];
        Assert.Equal("client", closed.ClosedBy);
        Assert.Equal(CloseReason.ClientClosed, closed.Reason);
        Assert.Equal(2, closed.BytesIn);
    }

    [Fact]
    public async Task An_idle_socket_is_closed_by_the_server()
    {
        await using var server = await WebServer.StartServerAsync(o => o.IdleTimeout = TimeSpan.FromMilliseconds(300));
        using var socket = await server.ConnectWebSocketAsync();
        var (type, _) = await socket.ReceiveMessageAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal("idle timeout", socket.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(CloseReason.IdleTimeout, server.Server.Services.GetEvents()[^1].Reason);
    }

    [Fact]
    public async Task A_peer_that_stops_answering_pings_is_aborted()
    {
        await using var server = await WebServer.StartAsync(w =>
        {
            w.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            w.KeepAliveTimeout = TimeSpan.FromMilliseconds(300);
        });

        // A client that never reads never answers a ping: to the server it is a dead peer.
        using var socket = await server.ConnectWebSocketAsync();
        await Eventually.TrueAsync(() => server.Metrics.AcceptedConnections == 1, TimeSpan.FromSeconds(15), () => "not accepted");
        await server.WaitForNoConnectionsAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(CloseReason.KeepAliveTimeout, server.Server.Services.GetEvents()[^1].Reason);
    }

    [Fact]
    public async Task A_peer_that_resets_is_counted_as_a_reset_not_a_dead_peer()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendFrameAsync(0x1, "x"u8.ToArray());
        Assert.Equal("X", System.Text.Encoding.UTF8.GetString((await socket.ReadFrameAsync()).Payload));
        socket.Reset();
        await server.WaitForNoConnectionsAsync();
        var closed = server.Server.Services.GetEvents()[^1];
        Assert.Equal(CloseReason.Reset, closed.Reason);
        Assert.Equal("client", closed.ClosedBy);
    }

    [Fact]
    public async Task Upgrades_over_the_limit_get_503_and_are_counted_as_rejected()
    {
        await using var server = await WebServer.StartAsync(w => w.MaxWebSockets = 2);
        using var first = await server.ConnectWebSocketAsync();
        using var second = await server.ConnectWebSocketAsync();
        using var third = new ClientWebSocket();
        third.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(server.WebSocketUri(), CancellationToken.None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.HttpStatusCode);
        Assert.Equal(1, server.Metrics.RejectedConnections);

        // A freed slot is reused.
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
        }

        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15), () => $"{server.Metrics.ActiveConnections} open");
        using var fourth = await server.ConnectWebSocketAsync();
        await fourth.SendAsync("ok"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("OK", await fourth.ReceiveTextAsync());
    }

    [Fact]
    public async Task Stopping_the_server_closes_open_sockets_with_1001()
    {
        var server = await WebServer.StartAsync();
        using var socket = await server.ConnectWebSocketAsync();
        var receive = socket.ReceiveMessageAsync(TimeSpan.FromSeconds(30));
        var stop = server.DisposeAsync();
        var (type, _) = await receive;
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Equal("server shutting down", socket.CloseStatusDescription);

        // Completing the closing handshake, as a browser does, lets the server finish at once.
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stop;
    }

    [Fact]
    public async Task A_plain_GET_of_ws_is_told_to_upgrade()
    {
        await using var server = await WebServer.StartAsync();
        using var http = server.Http();
        using var response = await http.GetAsync("/ws");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
