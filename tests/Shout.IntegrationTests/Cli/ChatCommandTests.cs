using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

public sealed class ChatCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(ShoutMode.Stream)]
    [InlineData(ShoutMode.Line)]
    public async Task Piped_chat_sends_each_line_and_quit_ends_it(ShoutMode mode)
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = mode);
        var result = await CliRunner.ShoutAsync(["chat", "-a", server.Endpoint.ToString()], "hello\nȿ ı\nquit\nnot sent\n"u8.ToArray(), Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("HELLO\n\u2C7E I\nQUIT\n", result.StdoutText);
        await server.WaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task Piped_chat_ends_cleanly_at_end_of_input()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["chat", "-a", server.Endpoint.ToString()], "one\ntwo\n"u8.ToArray(), Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ONE\nTWO\n", result.StdoutText);
    }

    [Fact]
    public async Task Chat_ends_when_the_server_closes()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line);
        await using var chat = ProcessHarness.StartShout("chat", "-a", server.Endpoint.ToString());
        await chat.Stdin.WriteLineAsync("hi");
        await chat.Stdin.FlushAsync();
        await chat.WaitForLineAsync("HI", Timeout);
        await server.Server.StopAsync();
        Assert.Equal(0, await chat.WaitForExitAsync(Timeout));
        await chat.WaitForLineAsync("server closed", Timeout, stderr: true);
    }
}
