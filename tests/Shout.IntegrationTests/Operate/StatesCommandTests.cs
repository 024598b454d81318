using System.Net.Sockets;
using System.Net;
using System.Text.Json;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// <c>shout states</c> against connections put in known states on loopback: the side that closes
/// first ends in TIME_WAIT (or FIN_WAIT_2 while the other side has not closed), the other in CLOSE_WAIT.
/// </summary>
public sealed class StatesCommandTests
{
    [Fact]
    public async Task Shows_listen_established_time_wait_close_wait_and_fin_wait_2()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line);
        var port = server.Endpoint.Port;

        // Established: connected, answered once, left open by both sides.
        using var open = await RawClient.ConnectAsync(server.Endpoint);
        await open.SendAsync("open\n"u8.ToArray());
        Assert.Equal("OPEN\n", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(open, 5)));

        // The client closes first: it half-closes, the server answers and closes, the client closes.
        // The client sent the first FIN, so the client's side waits in TIME_WAIT.
        int clientFirstPort;
        using (var first = await RawClient.ConnectAsync(server.Endpoint))
        {
            clientFirstPort = ((IPEndPoint)first.LocalEndPoint!).Port;
            await first.SendAsync("bye\n"u8.ToArray());
            first.Shutdown(SocketShutdown.Send);
            Assert.Equal("BYE\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(first)));
        }

        // The server closes first (quit) and the client never closes: the client sits in CLOSE_WAIT,
        // the server's side in FIN_WAIT_2.
        using var lingering = await RawClient.ConnectAsync(server.Endpoint);
        var lingeringPort = ((IPEndPoint)lingering.LocalEndPoint!).Port;
        await lingering.SendAsync("quit\n"u8.ToArray());
        Assert.Equal("QUIT\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(lingering)));

        var openPort = ((IPEndPoint)open.LocalEndPoint!).Port;
        var expected = new[]
        {
            ("LISTEN", "server", port, 0),
            ("ESTABLISHED", "client", openPort, port),
            ("ESTABLISHED", "server", port, openPort),
            ("TIME_WAIT", "client", clientFirstPort, port),
            ("CLOSE_WAIT", "client", lingeringPort, port),
            ("FIN_WAIT_2", "server", port, lingeringPort),
        };

        // The kernel moves the closing sockets on its own time; run the command until it agrees.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var result = await CliRunner.ShoutAsync(["states", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            var seen = Connections(result.StdoutText);
            if (expected.All(seen.Contains))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"expected {string.Join(", ", expected)} in:\n{result.StdoutText}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Plain_text_when_redirected_lists_states_and_counts()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["states", "-p", server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"LISTEN       server 127.0.0.1:{server.Endpoint.Port}", result.StdoutText, StringComparison.Ordinal);
        // Other tests' closed servers may leave TIME_WAIT entries on a reused port number: count LISTEN only.
        Assert.Matches(@"total \d+: (.*, )?LISTEN 1\b", result.StdoutText);
    }

    [Fact]
    public async Task Rejects_a_port_out_of_range()
    {
        var result = await CliRunner.ShoutAsync(["states", "--port", "70000"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--port: '70000' is not a whole number from 1 to 65535", result.Stderr, StringComparison.Ordinal);
    }

    private static HashSet<(string State, string Side, int LocalPort, int RemotePort)> Connections(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("connections").EnumerateArray()
            .Select(c => (c.GetProperty("state").GetString()!, c.GetProperty("side").GetString()!,
                IPEndPoint.Parse(c.GetProperty("local").GetString()!).Port,
                IPEndPoint.Parse(c.GetProperty("remote").GetString()!).Port))
            .ToHashSet();
    }
}
