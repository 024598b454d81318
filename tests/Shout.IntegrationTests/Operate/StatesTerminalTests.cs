using System.Globalization;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// <c>shout states --watch</c> in a real terminal (tmux): the table redraws on its own when a
/// connection closes, shows the legend, and Ctrl+C ends it with exit code 0.
/// </summary>
public sealed class StatesTerminalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Watch_shows_time_wait_appear_on_the_client_side_live()
    {
        var tmux = Tools.Require("tmux");
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var session = "shout-states-" + Guid.NewGuid().ToString("N")[..8];
        var exitFile = Path.Combine(Repo.TempDir(), "exit");
        var command = $"dotnet '{Repo.CliDll}' states --port {port} --watch --interval 200ms; echo $? > '{exitFile}'; sleep 30";
        Assert.Equal(0, (await CliRunner.RunAsync(tmux, ["new-session", "-d", "-s", session, "-x", "120", "-y", "40", command])).ExitCode);
        try
        {
            var first = await WaitForScreenAsync(tmux, session, s => s.Contains("LISTEN", StringComparison.Ordinal));
            Assert.Null(TableRow(first, "TIME_WAIT"));
            Assert.Contains("Ctrl+C to stop", first, StringComparison.Ordinal);
            Assert.Contains("The side that closes first", first, StringComparison.Ordinal);

            // A client closes first while the table is on screen: its TIME_WAIT appears without a keypress.
            using (var client = await RawClient.ConnectAsync(server.Endpoint))
            {
                await client.SendAsync("bye"u8.ToArray());
                client.Shutdown(SocketShutdown.Send);
                await RawClient.ReadToEndAsync(client);
            }

            var screen = await WaitForScreenAsync(tmux, session, s => TableRow(s, "TIME_WAIT") is not null);
            var row = TableRow(screen, "TIME_WAIT")!;
            Assert.Contains("client", row, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{port} ", row, StringComparison.Ordinal);

            Assert.Equal(0, (await CliRunner.RunAsync(tmux, ["send-keys", "-t", session, "C-c"])).ExitCode);
            await Eventually.TrueAsync(() => File.Exists(exitFile) && File.ReadAllText(exitFile).Trim().Length > 0, Timeout, () => "states did not exit");
            Assert.Equal("0", File.ReadAllText(exitFile).Trim());
        }
        finally
        {
            await CliRunner.RunAsync(tmux, ["kill-session", "-t", session]);
        }
    }

    /// <summary>The table's row (between the box's │ borders) naming <paramref name="state"/>, not the legend's mention.</summary>
    private static string? TableRow(string screen, string state) =>
        screen.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith('│') && l.Contains(state, StringComparison.Ordinal));

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
