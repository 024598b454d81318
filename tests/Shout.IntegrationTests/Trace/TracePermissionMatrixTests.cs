using System.Net;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Trace;

/// <summary>
/// RELIABILITY row 25 with the server running: <c>serve --trace</c> as an unprivileged user (no
/// CAP_NET_RAW) logs one line saying what is missing and how to grant it, and serves every transport
/// it listens on as if tracing had never been asked for. The capture is of the TCP and UDP ports, so
/// every transport is listened on at once; the web endpoint is http (ws) or https (wss).
/// </summary>
public sealed partial class TracePermissionMatrixTests
{
    [Theory]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row25_serve_trace_without_permission_says_so_in_one_line_and_serves_every_transport(string web)
    {
        var setpriv = Tools.Require("setpriv");
        var cli = TraceCommandTests.ReadableCopyOfTheCli();
        Assert.Equal(0, (await CliRunner.RunAsync("chmod", ["-R", "a+rX", cli])).ExitCode);
        var dir = Repo.TempDir();
        Assert.Equal(0, (await CliRunner.RunAsync("chmod", ["777", dir])).ExitCode);
        var unix = Path.Combine(dir, "s.sock");

        await using var server = ProcessHarness.Start(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "dotnet", Path.Combine(cli, "shout.dll"), "serve", "--trace", "-v",
            "-l", "tcp://127.0.0.1:0", "-l", "tcp://[::1]:0", "-l", $"unix://{unix}", "-l", "tls://127.0.0.1:0", "-l", "udp://127.0.0.1:0",
            "--web", web == "wss" ? "https://127.0.0.1:0" : "http://127.0.0.1:0"],
            environment: new Dictionary<string, string> { ["HOME"] = dir, ["DOTNET_CLI_HOME"] = dir });

        var log = await server.WaitForOutputAsync(o => Listening().Count(o) >= 6 && o.Contains("the page's trace is off", StringComparison.Ordinal)
            && FingerprintLine().IsMatch(o), TimeSpan.FromSeconds(60));
        var warning = Assert.Single(log.Split('\n'), l => l.Contains("the page's trace is off", StringComparison.Ordinal));
        Assert.Contains("not permitted", warning, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_RAW", warning, StringComparison.Ordinal);
        Assert.Contains("setcap cap_net_raw,cap_net_admin+eip", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);

        var addresses = Listening().Matches(log).Select(m => m.Groups[1].Value).ToList();
        var pin = StreamMatrixClient.Pinned(Convert.FromHexString(FingerprintLine().Match(log).Groups[1].Value.Replace(":", "", StringComparison.Ordinal)));
        string Address(string prefix) => addresses.First(a => a.StartsWith(prefix, StringComparison.Ordinal));
        var clients = new (string Name, Func<Task<MatrixClient>> Dial)[]
        {
            ("tcp4", () => StreamMatrixClient.ConnectAsync(ShoutEndpoint.Parse(Address("tcp://127.0.0.1:")), null, IPAddress.Loopback)),
            ("tcp6", () => StreamMatrixClient.ConnectAsync(ShoutEndpoint.Parse(Address("tcp://[::1]:")), null, IPAddress.IPv6Loopback)),
            ("unix", () => StreamMatrixClient.ConnectAsync(ShoutEndpoint.Parse(Address("unix://")), null, IPAddress.None)),
            ("tls", () => StreamMatrixClient.ConnectAsync(ShoutEndpoint.Parse(Address("tls://")), pin, IPAddress.Loopback)),
            ("udp", () => Task.FromResult<MatrixClient>(DatagramMatrixClient.Connect(ShoutEndpoint.Parse(Address("udp://")), IPAddress.Loopback))),
            (web, () => WebSocketMatrixClient.ConnectAsync(new UriBuilder(Address("http")) { Scheme = web, Path = "/ws" }.Uri, web == "wss" ? pin : null, IPAddress.Loopback)),
        };
        foreach (var (name, dial) in clients)
        {
            await using var client = await dial();
            var text = $"traced or not over {name}";
            await client.SendAsync(System.Text.Encoding.ASCII.GetBytes(text));
            var reply = await client.ReceiveAsync(text.Length);
            Assert.True(string.Equals(System.Text.Encoding.ASCII.GetString(reply.Data), text.ToUpperInvariant(), StringComparison.Ordinal), $"{name}: {reply}");
        }

        server.Signal(15);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"SHA-256 fingerprint ([0-9A-Fa-f:]+)")]
    private static partial Regex FingerprintLine();
}
