using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// <c>shout states --watch</c> in a real terminal (tmux): the table redraws on its own when a
/// connection closes, shows the legend, and Ctrl+C ends it with exit code 130, as chat, bench and trace.
/// </summary>
public sealed class StatesTerminalTests
{
    [Fact]
    public async Task Watch_shows_time_wait_appear_on_the_client_side_live()
    {
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' states --port {port} --watch --interval 200ms", 120, 40);
        // The footer is the frame's last line: wait for it so that a frame caught half drawn is not judged.
        var first = await terminal.WaitForScreenAsync(s => s.Contains("LISTEN", StringComparison.Ordinal)
            && s.Contains("Ctrl+C to stop", StringComparison.Ordinal));
        // (TIME_WAIT rows of earlier tests may be there: the port number is reused. The one below is told by its client port.)
        Assert.Contains("The side that closes first", first, StringComparison.Ordinal);

        // A client closes first while the table is on screen: its TIME_WAIT appears without a keypress.
        string clientEnd;
        using (var client = await RawClient.ConnectAsync(server.Endpoint))
        {
            clientEnd = client.LocalEndPoint!.ToString()!;
            await client.SendAsync("bye"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            await RawClient.ReadToEndAsync(client);
        }

        // The row as a whole (a redraw can be caught between its first and last cell): the client's side, the server's port remote.
        Assert.DoesNotContain(clientEnd + " ", first, StringComparison.Ordinal);
        var screen = await terminal.WaitForScreenAsync(s => TableRow(s, "TIME_WAIT", clientEnd) is { } r
            && r.Contains($"127.0.0.1:{port} ", StringComparison.Ordinal) && r.TrimEnd().EndsWith('│'));
        var row = TableRow(screen, "TIME_WAIT", clientEnd)!;
        Assert.Contains("client", row, StringComparison.Ordinal);

        await terminal.KeysAsync("C-c");
        Assert.Equal("130", await terminal.ExitCodeAsync());
    }

    [Fact]
    public async Task Watch_on_a_small_terminal_keeps_the_counts_and_cuts_the_rows()
    {
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                clients.Add(await RawClient.ConnectAsync(server.Endpoint));
            }

            await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 40, TimeSpan.FromSeconds(30), () => "not all connected");
            await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' states --port {port} --watch --interval 200ms", 120, 30);

            // Both ends of each loopback connection: 80 ESTABLISHED, 1 LISTEN, far more rows than 30 lines hold.
            var screen = await terminal.WaitForScreenAsync(s => s.Contains("ESTABLISHED 80", StringComparison.Ordinal)
                && s.Contains("Ctrl+C to stop", StringComparison.Ordinal));
            Assert.Contains("LISTEN 1", screen, StringComparison.Ordinal);

            // The total is every socket on the port, rows cut or not: our 81, plus any TIME_WAIT an
            // earlier test left on a port number the kernel has since given to this server.
            var header = Regex.Match(screen, @"(?m)^.*\btotal (\d+).*$");
            Assert.True(header.Success, screen);
            var counted = Regex.Matches(header.Value, @"([A-Z][A-Z0-9_]+) (\d+)").Sum(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(counted, int.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.True(counted >= 81, header.Value);
            Assert.Matches(@"… \d+ more", screen);
            Assert.Contains("TCP sockets on port", screen, StringComparison.Ordinal);
            Assert.DoesNotContain("The side that closes first", screen, StringComparison.Ordinal);
            await terminal.KeysAsync("C-c");
            Assert.Equal("130", await terminal.ExitCodeAsync());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>The table's row (between the box's │ borders) naming <paramref name="state"/>, not the legend's mention.</summary>
    private static string? TableRow(string screen, string state, string? containing = null) =>
        screen.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith('│') && l.Contains(state, StringComparison.Ordinal)
            && (containing is null || l.Contains(containing, StringComparison.Ordinal)));
}
