using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;

namespace Shout.IntegrationTests.WebSocketClient;

/// <summary>
/// The client's message seam, <see cref="ShoutWebSocketClient"/>, against Shout's own <c>/ws</c>
/// and against the npm ws package's server: text and binary, fragments both ways, close codes.
/// </summary>
public sealed class WebSocketClientTests
{
    private static readonly ShoutClientOptions Text = new();
    private static readonly ShoutClientOptions Binary = new() { BinaryMessages = true };

    private static ShoutEndpoint ShoutWs(TestServer server) => ShoutEndpoint.Parse(server.WebSocketUri().ToString());

    private static async Task<(WebSocketMessageType Type, byte[] Data)> NextAsync(ShoutWebSocketClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await client.ReceiveMessageAsync(timeout.Token) ?? throw new Xunit.Sdk.XunitException("the server closed instead of answering");
    }

    [Fact]
    public async Task Shout_answers_a_text_message_with_its_uppercase_as_text()
    {
        await using var server = await WebServer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(ShoutWs(server), Text);
        await client.SendAsync("hello wörld"u8.ToArray());
        var (type, data) = await NextAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("HELLO WÖRLD", Encoding.UTF8.GetString(data));
    }

    [Fact]
    public async Task Shout_answers_a_binary_message_as_binary_with_invalid_bytes_unchanged()
    {
        await using var server = await WebServer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(ShoutWs(server), Binary);
        await client.SendAsync(new byte[] { (byte)'a', 0xFF, (byte)'b', 0x00, 0xC3 });
        var (type, data) = await NextAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[] { (byte)'A', 0xFF, (byte)'B', 0x00, 0xC3 }, data);
    }

    [Fact]
    public async Task A_message_larger_than_a_frame_goes_in_fragments_and_shout_answers_it_whole()
    {
        await using var server = await WebServer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(ShoutWs(server), Text);
        var message = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("abcdefghij", 30_000))); // 300 000 bytes, 5 frames
        await client.SendAsync(message);
        var (_, data) = await NextAsync(client);
        Assert.Equal(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(message).ToUpperInvariant()), data);
    }

    [Fact]
    public async Task The_client_closing_first_gets_every_reply_then_a_normal_close()
    {
        await using var server = await WebServer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(ShoutWs(server), Text);
        await client.SendAsync("one"u8.ToArray());
        await client.SendAsync("two"u8.ToArray());
        await client.CloseOutputAsync();
        Assert.Equal("ONE", Encoding.UTF8.GetString((await NextAsync(client)).Data));
        Assert.Equal("TWO", Encoding.UTF8.GetString((await NextAsync(client)).Data));
        Assert.Null(await client.ReceiveMessageAsync());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Shout_closing_with_1009_for_an_oversized_message_is_an_error_naming_the_code()
    {
        await using var server = await WebServer.StartAsync(web => web.MaxMessageBytes = 1000);
        await using var client = await ShoutWebSocketClient.ConnectAsync(ShoutWs(server), Text);
        await client.SendAsync(new byte[2000].Select(_ => (byte)'x').ToArray());
        var closed = await Assert.ThrowsAsync<WebSocketClosedException>(() => client.ReceiveMessageAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, closed.Status);
        Assert.StartsWith("the server closed the WebSocket with 1009", closed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_stream_seam_over_WebSocket_sends_each_write_as_a_message_and_reads_every_reply()
    {
        await using var server = await WebServer.StartAsync();
        await using var connection = await ShoutConnection.ConnectAsync(ShoutWs(server), Text);
        await connection.Stream.WriteAsync("ab"u8.ToArray());
        await connection.Stream.WriteAsync("cd"u8.ToArray());
        await connection.HalfCloseAsync();
        using var replies = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await connection.Stream.CopyToAsync(replies, timeout.Token);
        Assert.Equal("ABCD", Encoding.UTF8.GetString(replies.ToArray()));
    }

    [Fact]
    public async Task The_ws_package_server_answers_text_and_binary_in_their_types()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using (var text = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/upper"), Text))
        {
            await text.SendAsync("hello"u8.ToArray());
            var (type, data) = await NextAsync(text);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal("HELLO", Encoding.UTF8.GetString(data));
        }

        await using var binary = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/upper"), Binary);
        await binary.SendAsync(new byte[] { (byte)'z', 0xFE });
        var reply = await NextAsync(binary);
        Assert.Equal(WebSocketMessageType.Binary, reply.Type);
        Assert.Equal(new byte[] { (byte)'Z', 0xFE }, reply.Data);
    }

    [Fact]
    public async Task A_reply_in_fragments_from_the_ws_package_is_joined_into_one_message()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/fragments"), Text);
        await client.SendAsync("hello fragmented world"u8.ToArray()); // 22 bytes: 5 fragments of at most 5
        Assert.Equal("HELLO FRAGMENTED WORLD", Encoding.UTF8.GetString((await NextAsync(client)).Data));
        await client.SendAsync("second"u8.ToArray());
        Assert.Equal("SECOND", Encoding.UTF8.GetString((await NextAsync(client)).Data));
    }

    [Fact]
    public async Task The_ws_package_sees_a_large_message_arrive_in_64_KiB_frames()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/report"), Binary);
        await client.SendAsync(new byte[200_000]);
        using var report = JsonDocument.Parse((await NextAsync(client)).Data);
        Assert.Equal("binary", report.RootElement.GetProperty("type").GetString());
        Assert.Equal(200_000, report.RootElement.GetProperty("bytes").GetInt32());
        Assert.Equal((200_000 + ShoutWebSocketClient.FrameSize - 1) / ShoutWebSocketClient.FrameSize, report.RootElement.GetProperty("frames").GetInt32());

        await client.SendAsync(new byte[100]);
        using var small = JsonDocument.Parse((await NextAsync(client)).Data);
        Assert.Equal(1, small.RootElement.GetProperty("frames").GetInt32());
    }

    [Fact]
    public async Task The_ws_package_closing_with_1008_is_an_error_with_its_code_and_reason()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var client = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/close1008"), Text);
        await client.SendAsync("hello"u8.ToArray());
        var closed = await Assert.ThrowsAsync<WebSocketClosedException>(() => client.ReceiveMessageAsync());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed.Status);
        Assert.Equal("no shouting here", closed.Description);
    }

    [Fact]
    public async Task Wss_to_the_ws_package_is_refused_unverified_and_accepted_pinned()
    {
        await using var peer = await NodeWsPeer.StartAsync(tls: true);
        var refused = await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(
            () => ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/upper"), Text));
        Assert.Contains("not trusted", refused.Message, StringComparison.Ordinal);

        var wrongPin = CertificatePin.Parse(new string('A', 64));
        var mismatch = await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(
            () => ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/upper"), new ShoutClientOptions { Pin = wrongPin }));
        Assert.Contains("not the pinned one", mismatch.Message, StringComparison.Ordinal);

        await using var client = await ShoutWebSocketClient.ConnectAsync(peer.Endpoint("/upper"),
            new ShoutClientOptions { Pin = CertificatePin.Parse(peer.Fingerprint!) });
        await client.SendAsync("secret"u8.ToArray());
        Assert.Equal("SECRET", Encoding.UTF8.GetString((await NextAsync(client)).Data));
    }

    [Fact]
    public async Task An_upgrade_refused_with_404_says_so()
    {
        await using var server = await WebServer.StartAsync();
        var wrong = ShoutEndpoint.Parse(new UriBuilder(server.WebSocketUri()) { Path = "/nothing-here" }.Uri.ToString());
        var refused = await Assert.ThrowsAsync<IOException>(() => ShoutWebSocketClient.ConnectAsync(wrong, Text));
        Assert.Contains("HTTP 404", refused.Message, StringComparison.Ordinal);
    }
}
