using System.Globalization;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// <c>shout states --watch</c> with more sockets than the terminal holds: every state present has a
/// row in the table (not only in the count line), and after Ctrl+C the last frame stays on screen.
/// </summary>
public sealed class StatesWatchFrameTests
{
    [Fact]
    public async Task Time_wait_keeps_its_rows_beside_80_established_and_the_last_frame_stays()
    {
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var clients = new List<Socket>();
        try
        {
            // Three connections the client closes first: three client-side TIME_WAIT sockets.
            for (var i = 0; i < 3; i++)
            {
                using var client = await RawClient.ConnectAsync(server.Endpoint);
                await client.SendAsync("bye"u8.ToArray());
                client.Shutdown(SocketShutdown.Send);
                await RawClient.ReadToEndAsync(client);
            }

            for (var i = 0; i < 40; i++)
            {
                clients.Add(await RawClient.ConnectAsync(server.Endpoint));
            }

            await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 40, TimeSpan.FromSeconds(30), () => "not all connected");
            await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' states --port {port} --watch --interval 200ms", 120, 30);

            // 80 ESTABLISHED rows cannot fit in 30 lines; TIME_WAIT still has rows of its own in the table.
            // At least 80: a socket of another test whose port number happens to be this port is counted too.
            var screen = await terminal.WaitForScreenAsync(s => Established(s) >= 80
                && s.Contains("Ctrl+C to stop", StringComparison.Ordinal));
            Assert.True(TableRow(screen, "TIME_WAIT") is not null, screen);
            Assert.True(TableRow(screen, "ESTABLISHED") is not null, screen);
            Assert.True(TableRow(screen, "LISTEN") is not null, screen);
            Assert.Matches(@"… \d+ more", screen);

            await terminal.KeysAsync("C-c");
            Assert.Equal("130", await terminal.ExitCodeAsync());

            // The last frame is still on the screen, without the "refreshing" footer.
            var after = await terminal.WaitForScreenAsync(s => !s.Contains("Ctrl+C to stop", StringComparison.Ordinal));
            Assert.Contains("TCP sockets on port " + port, after, StringComparison.Ordinal);
            Assert.True(TableRow(after, "TIME_WAIT") is not null, after);
            Assert.True(TableRow(after, "ESTABLISHED") is not null, after);
            Assert.True(Established(after) >= 80, after);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>The ESTABLISHED count of the count line; -1 when there is none.</summary>
    private static int Established(string screen) =>
        System.Text.RegularExpressions.Regex.Match(screen, @"ESTABLISHED (\d+)") is { Success: true } m
            ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : -1;

    /// <summary>The table's row (between the box's │ borders) naming <paramref name="state"/>, not the count line's.</summary>
    private static string? TableRow(string screen, string state) =>
        screen.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith('│') && l.Contains(state, StringComparison.Ordinal));
}
