using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>shout states -p PUBLIC</c> in front of <c>serve --toxic</c>: the server's own sockets on the internal port too.</summary>
public sealed class ServeToxicStatesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task States_for_the_public_port_shows_the_client_the_toxics_proxy_and_the_servers_own_end_behind_it()
    {
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--web", "none", "--toxic", "latency:downstream:latency=1");
        var (publicPort, internalPort) = await ServeToxicPorts.ReadAsync(serve, Timeout);
        using var client = await ProxyFixture.ConnectAsync(publicPort);
        await client.SendAsync("hi\n"u8.ToArray(), SocketFlags.None);
        var buffer = new byte[16];
        using (var cts = new CancellationTokenSource(Timeout))
        {
            Assert.True(await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0); // both legs are up
        }

        var clientPort = ((System.Net.IPEndPoint)client.LocalEndPoint!).Port;
        var states = await CliRunner.ShoutAsync(["states", "-p", publicPort.ToString(CultureInfo.InvariantCulture), "--json"], timeout: Timeout);
        Assert.True(states.ExitCode == 0, states.Stderr);
        using var json = JsonDocument.Parse(states.StdoutText);
        Assert.Equal([internalPort], json.RootElement.GetProperty("behind").EnumerateArray().Select(p => p.GetInt32()));
        var connections = json.RootElement.GetProperty("connections").EnumerateArray()
            .Select(c => (State: c.GetProperty("state").GetString(), Side: c.GetProperty("side").GetString(),
                Local: c.GetProperty("local").GetString(), Remote: c.GetProperty("remote").GetString()))
            .ToList();
        var shown = string.Join("; ", connections);

        Assert.Contains(("ESTABLISHED", "client", $"127.0.0.1:{clientPort}", $"127.0.0.1:{publicPort}"), connections);
        Assert.Contains(("ESTABLISHED", "proxy", $"127.0.0.1:{publicPort}", $"127.0.0.1:{clientPort}"), connections);
        Assert.Contains(connections, c => c is { State: "ESTABLISHED", Side: "server" } && c.Local == $"127.0.0.1:{internalPort}");
        Assert.Contains(connections, c => c is { State: "ESTABLISHED", Side: "proxy" } && c.Remote == $"127.0.0.1:{internalPort}");
        Assert.True(connections.Contains(("LISTEN", "server", $"127.0.0.1:{internalPort}", "0.0.0.0:0")), shown);

        var plain = await CliRunner.ShoutAsync(["states", "-p", publicPort.ToString(CultureInfo.InvariantCulture)], timeout: Timeout);
        Assert.Contains($"port {publicPort} is serve --toxic's proxy; its server is on {internalPort} (shown too)", plain.StdoutText, StringComparison.Ordinal);

        // Once the server has stopped, its internal port is no longer named.
        serve.Signal(15);
        await serve.WaitForExitAsync(Timeout);
        var after = await CliRunner.ShoutAsync(["states", "-p", publicPort.ToString(CultureInfo.InvariantCulture), "--json"], timeout: Timeout);
        using var afterJson = JsonDocument.Parse(after.StdoutText);
        Assert.Empty(afterJson.RootElement.GetProperty("behind").EnumerateArray());
    }

    [Fact]
    public async Task States_shows_the_queues_a_bandwidth_toxic_builds_in_front_of_the_server()
    {
        // 1 KB/s downstream: the proxy takes the server's replies slowly, so they queue in the kernel on
        // the leg behind it (the server's Send-Q, the proxy's Recv-Q) while the client waits.
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--web", "none", "--toxic", "bandwidth:downstream:rate=1");
        var (publicPort, internalPort) = await ServeToxicPorts.ReadAsync(serve, Timeout);
        using var client = await ProxyFixture.ConnectAsync(publicPort);
        var payload = new byte[4 << 20];
        Array.Fill(payload, (byte)'q');
        using var sending = new CancellationTokenSource(Timeout);
        var send = client.SendAsync(payload, SocketFlags.None, sending.Token).AsTask();

        var seen = "";
        await Eventually.TrueAsync(async () =>
        {
            var states = await CliRunner.ShoutAsync(["states", "-p", publicPort.ToString(CultureInfo.InvariantCulture), "--json"], timeout: Timeout);
            using var json = JsonDocument.Parse(states.StdoutText);
            var queued = json.RootElement.GetProperty("connections").EnumerateArray()
                .Where(c => c.GetProperty("state").GetString() == "ESTABLISHED")
                .Select(c => (Side: c.GetProperty("side").GetString(), Local: c.GetProperty("local").GetString(),
                    Send: c.GetProperty("sendQueue").GetInt64(), Receive: c.GetProperty("receiveQueue").GetInt64()))
                .ToList();
            seen = string.Join("; ", queued);
            return queued.Any(c => c.Side == "server" && c.Local == $"127.0.0.1:{internalPort}" && c.Send > 64 * 1024)
                && queued.Any(c => c.Side == "proxy" && c.Receive > 64 * 1024);
        }, Timeout, () => "no queue built up behind the bandwidth toxic: " + seen);

        var plain = await CliRunner.ShoutAsync(["states", "-p", publicPort.ToString(CultureInfo.InvariantCulture)], timeout: Timeout);
        Assert.Contains("SEND-Q", plain.StdoutText, StringComparison.Ordinal);
        client.Close();
        await sending.CancelAsync();
        await send.ContinueWith(static _ => { }, TaskScheduler.Default);
    }
}
