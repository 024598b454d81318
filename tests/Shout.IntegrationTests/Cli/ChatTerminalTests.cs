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
        var tmux = Tools.Require("tmux");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var session = "shout-chat-" + Guid.NewGuid().ToString("N")[..8];
        var command = $"dotnet '{Repo.CliDll}' chat -a 127.0.0.1:{port}";
        var started = await CliRunner.RunAsync(tmux, ["new-session", "-d", "-s", session, "-x", "100", "-y", "20", command]);
        Assert.Equal(0, started.ExitCode);
        try
        {
            using var accept = new CancellationTokenSource(Timeout);
            using var server = await listener.AcceptSocketAsync(accept.Token);
            // Type only once the prompt is drawn: keys typed earlier are echoed by the terminal itself.
            await WaitForScreenAsync(tmux, session, s => s.Contains("connected to", StringComparison.Ordinal) && LastLine(s) == ">");

            await Keys(tmux, session, "hel");
            await WaitForScreenAsync(tmux, session, s => LastLine(s) == "> hel");

            // The server speaks while "hel" is half typed.
            await server.SendAsync("PUSHED BY SERVER\n"u8.ToArray());
            var screen = await WaitForScreenAsync(tmux, session, s => s.Contains("PUSHED BY SERVER", StringComparison.Ordinal) && LastLine(s) == "> hel");
            Assert.DoesNotContain("helPUSHED", screen, StringComparison.Ordinal);

            await Keys(tmux, session, "lo", "Enter");
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
        finally
        {
            await CliRunner.RunAsync(tmux, ["kill-session", "-t", session]);
        }
    }

    [Theory]
    [InlineData("quit")]
    [InlineData("ctrl-d")]
    public async Task Quit_or_ctrl_d_ends_the_session(string how)
    {
        var tmux = Tools.Require("tmux");
        await using var server = await TestServer.StartAsync(o => o.Mode = Shout.Server.ShoutMode.Line);
        var session = "shout-chat-" + Guid.NewGuid().ToString("N")[..8];
        // The session ends when chat exits; its exit code is left on a file to check.
        var exitFile = Path.Combine(Repo.TempDir(), "exit");
        var command = $"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}; echo $? > '{exitFile}'; sleep 30";
        Assert.Equal(0, (await CliRunner.RunAsync(tmux, ["new-session", "-d", "-s", session, "-x", "100", "-y", "20", command])).ExitCode);
        try
        {
            await WaitForScreenAsync(tmux, session, s => LastLine(s) == ">");
            await Keys(tmux, session, "hi ȿ", "Enter");
            await WaitForScreenAsync(tmux, session, s => s.Contains("HI \u2C7E", StringComparison.Ordinal));
            if (how == "quit")
            {
                await Keys(tmux, session, "quit", "Enter");
                await WaitForScreenAsync(tmux, session, s => s.Contains("QUIT", StringComparison.Ordinal));
            }
            else
            {
                await Keys(tmux, session, "C-d");
            }

            await Eventually.TrueAsync(() => File.Exists(exitFile) && File.ReadAllText(exitFile).Trim().Length > 0, Timeout, () => "chat did not exit");
            Assert.Equal("0", File.ReadAllText(exitFile).Trim());
        }
        finally
        {
            await CliRunner.RunAsync(tmux, ["kill-session", "-t", session]);
        }
    }

    private static async Task Keys(string tmux, string session, params string[] keys)
    {
        var result = await CliRunner.RunAsync(tmux, ["send-keys", "-t", session, .. keys]);
        Assert.Equal(0, result.ExitCode);
    }

    private static string LastLine(string screen) =>
        screen.Split('\n').Select(l => l.TrimEnd()).LastOrDefault(l => l.Length > 0) ?? "";

    private static async Task<string> WaitForScreenAsync(string tmux, string session, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var screen = (await CliRunner.RunAsync(tmux, ["capture-pane", "-p", "-t", session])).StdoutText;
            if (condition(screen))
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, "the terminal never showed what was expected:\n" + screen);
            await Task.Delay(50);
        }
    }
}
