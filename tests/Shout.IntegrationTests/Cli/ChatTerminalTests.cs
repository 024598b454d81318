using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// <c>shout chat</c> in a real terminal (tmux): a reply that arrives while the user is typing is
/// printed above the prompt and the half-typed input survives.
/// </summary>
public sealed class ChatTerminalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_reply_arriving_mid_typing_does_not_garble_the_prompt()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a 127.0.0.1:{port}");
        using var accept = new CancellationTokenSource(Timeout);
        using var server = await listener.AcceptSocketAsync(accept.Token);

        // Type only once the prompt is drawn: keys typed earlier are echoed by the terminal itself.
        await terminal.WaitForScreenAsync(s => s.Contains("connected to", StringComparison.Ordinal) && TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("hel");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> hel");

        // The server speaks while "hel" is half typed.
        await server.SendAsync("PUSHED BY SERVER\n"u8.ToArray());
        var screen = await terminal.WaitForScreenAsync(s => s.Contains("PUSHED BY SERVER", StringComparison.Ordinal) && TmuxSession.LastLine(s) == "> hel");
        Assert.DoesNotContain("helPUSHED", screen, StringComparison.Ordinal);

        await terminal.KeysAsync("lo", "Enter");
        var received = new byte[6];
        var got = 0;
        using var read = new CancellationTokenSource(Timeout);
        while (got < received.Length)
        {
            var n = await server.ReceiveAsync(received.AsMemory(got), SocketFlags.None, read.Token);
            Assert.True(n > 0, "chat closed the connection");
            got += n;
        }

        Assert.Equal("hello\n", Encoding.UTF8.GetString(received));
    }

    [Theory]
    [InlineData("quit")]
    [InlineData("ctrl-d")]
    public async Task Quit_or_ctrl_d_ends_the_session(string how)
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = Shout.Hosting.ShoutMode.Line);
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("hi ȿ", "Enter");
        await terminal.WaitForScreenAsync(s => s.Contains("HI \u2C7E", StringComparison.Ordinal));
        if (how == "quit")
        {
            await terminal.KeysAsync("quit", "Enter");
            await terminal.WaitForScreenAsync(s => s.Contains("QUIT", StringComparison.Ordinal));
        }
        else
        {
            await terminal.KeysAsync("C-d");
        }

        Assert.Equal("0", await terminal.ExitCodeAsync());
    }
}
