using System.Net.WebSockets;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Web;
using Shout.Sessions;
using Shout.Text;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The message contract over <c>/ws</c>, plus what only WebSocket has: message types kept (text
/// answered as text, binary as binary), invalid UTF-8 in text closed with 1007, a message over
/// <see cref="Shout.Web.ShoutWebOptions.MaxMessageBytes"/> closed with 1009, fragments joined.
/// </summary>
public abstract class WebSocketMessageConformance : MessageTransportConformance
{
    private const int Limit = 256 * 1024;

    protected override int MaxMessage => Limit;

    protected override void Configure(ShoutServerOptions options) => options.Web.MaxMessageBytes = Limit;

    internal override Task SendMessageAsync(MatrixClient client, byte[] message, bool text) =>
        Socket(client).SendAsync(message, text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

    internal override async Task<byte[]> ReceiveMessageAsync(MatrixClient client, bool text)
    {
        var (type, data) = await Socket(client).ReceiveMessageAsync();
        Assert.Equal(text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, type);
        return data;
    }

    [Theory]
    [InlineData(new byte[] { (byte)'h', 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    public async Task Invalid_UTF8_in_a_text_message_closes_with_1007_and_nothing_else_is_answered(byte[] payload)
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        await SendMessageAsync(client, "fine "u8.ToArray(), text: true);
        Assert.Equal("FINE ", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));

        // The client library does not check what it sends, so it can send what a browser never would.
        await SendMessageAsync(client, payload, text: true);
        var ending = await client.ReadToEndAsync();
        Assert.Equal(EndKind.Closed, ending.Kind);
        Assert.Equal((int)WebSocketCloseStatus.InvalidPayloadData, ending.CloseCode);
        Assert.Empty(ending.Data);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(CloseReason.ProtocolError, LastClosed(server).Reason);
    }

    [Fact]
    public async Task A_message_one_byte_past_the_limit_closes_with_1009()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        var message = new byte[Limit + 1];
        Array.Fill(message, (byte)'a');
        await SendMessageAsync(client, message, text: false);
        var ending = await client.ReadToEndAsync();
        Assert.Equal(EndKind.Closed, ending.Kind);
        Assert.Equal((int)WebSocketCloseStatus.MessageTooBig, ending.CloseCode);

        // A server that answers a message chunk by chunk may have answered part of it before the
        // limit was crossed; never a byte past the limit, and never a whole (final) answer.
        Assert.InRange(ending.Data.Length, 0, Limit);
        Assert.All(ending.Data, b => Assert.Equal((byte)'A', b));
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(CloseReason.MessageTooBig, LastClosed(server).Reason);
    }

    [Fact]
    public async Task A_message_in_fragments_split_inside_characters_is_answered_whole_in_its_type()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        var bytes = Encoding.UTF8.GetBytes("aȿ😀bı");
        foreach (var type in new[] { WebSocketMessageType.Binary, WebSocketMessageType.Text })
        {
            // Text fragments may split a character too (RFC 6455 validates the whole message).
            for (var i = 0; i < bytes.Length; i++)
            {
                await Socket(client).SendAsync(bytes.AsMemory(i, 1), type, endOfMessage: i == bytes.Length - 1, CancellationToken.None);
            }

            Assert.Equal(ShoutCase.ToUpper(bytes), await ReceiveMessageAsync(client, text: type == WebSocketMessageType.Text));
        }
    }

    [Fact]
    public async Task The_client_closing_is_answered_with_a_close_and_recorded_with_its_bytes()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        await SendMessageAsync(client, "hi ȿ"u8.ToArray(), text: true);
        Assert.Equal("HI \u2C7E", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await Socket(client).CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        }

        Assert.Equal(WebSocketState.Closed, Socket(client).State);
        await server.WaitForNoConnectionsAsync();
        var closed = LastClosed(server);
        Assert.Equal(CloseReason.ClientClosed, closed.Reason);
        Assert.Equal(5, closed.BytesIn);
        Assert.Equal(6, closed.BytesOut);
        Assert.Contains(closed.Transport, Transport.EventNames);
    }

    private static ClientWebSocket Socket(MatrixClient client) => ((WebSocketMatrixClient)client).WebSocket;

    private static ConnectionEvent LastClosed(TestServer server) =>
        server.Server.Services.GetEvents().Last(e => e.Kind == ConnectionEventKind.Closed);
}
