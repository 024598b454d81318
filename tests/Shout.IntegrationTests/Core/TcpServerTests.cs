using System.Net.Sockets;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Text;

namespace Shout.IntegrationTests.Core;

public sealed class TcpServerTests
{
    [Fact]
    public async Task Answers_hello_world_in_uppercase()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await socket.SendAsync("hello world"u8.ToArray());
        Assert.Equal("HELLO WORLD", Encoding.UTF8.GetString(await RawClient.ReadExactlyAsync(socket, 11)));
    }

    [Fact]
    public async Task Half_close_still_gets_every_reply_then_the_server_closes()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await socket.SendAsync("hello"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("HELLO", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
        await server.WaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task A_character_sent_byte_by_byte_comes_back_whole()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        socket.NoDelay = true;
        var input = Encoding.UTF8.GetBytes("aȿ😀ı");
        foreach (var b in input)
        {
            await socket.SendAsync(new[] { b });
        }

        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(ShoutCase.ToUpper(input), await RawClient.ReadToEndAsync(socket));
    }

    [Fact]
    public async Task Line_mode_answers_lines_and_quit_closes()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line);
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await socket.SendAsync("one\ntw"u8.ToArray());
        Assert.Equal("ONE\n", Encoding.UTF8.GetString(await RawClient.ReadExactlyAsync(socket, 4)));
        await socket.SendAsync("o\nquit\nnever\n"u8.ToArray());
        Assert.Equal("TWO\nQUIT\n", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
    }

    [Fact]
    public async Task Line_mode_accepts_a_line_larger_than_the_transport_read_buffer_when_the_limit_allows()
    {
        const int limit = 3 * 1024 * 1024;
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.MaxLineLength = limit;
        });
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        var line = new byte[limit];
        Array.Fill(line, (byte)'q');
        var send = Task.Run(async () =>
        {
            await socket.SendAsync(line);
            await socket.SendAsync("\n"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
        });
        var reply = await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(60));
        await send;
        Assert.Equal(limit + 1, reply.Length);
        Assert.All(reply[..limit], b => Assert.Equal((byte)'Q', b));
    }
}
