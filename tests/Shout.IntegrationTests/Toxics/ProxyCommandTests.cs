using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>The <c>shout proxy</c> command as a user runs it, and Unix sockets on either side.</summary>
public sealed partial class ProxyCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Shout_proxy_forwards_with_a_toxic_given_as_a_flag_and_the_api_changes_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = ProcessHarness.StartShout("proxy", "-l", "tcp://127.0.0.1:0", "--to", $"tcp://127.0.0.1:{server.Endpoint.Port}",
            "--api", "127.0.0.1:0", "--toxic", "latency:downstream:latency=300", "--seed", "1");
        var output = await proxy.WaitForOutputAsync(o => o.Contains("API on http://", StringComparison.Ordinal), Timeout);
        var port = int.Parse(ListenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var api = ApiLine().Match(output).Groups[1].Value;
        Assert.Contains("through latency_downstream", output, StringComparison.Ordinal);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("HELLO", await SendAsync(port, "hello"));
        Assert.True(watch.ElapsedMilliseconds >= 290, $"{watch.ElapsedMilliseconds} ms with a 300 ms latency");

        using var http = new HttpClient { BaseAddress = new Uri(api) };
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.DeleteAsync("/proxies/shout/toxics/latency_downstream")).StatusCode);
        var times = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            watch.Restart();
            Assert.Equal("HELLO", await SendAsync(port, "hello"));
            times.Add(watch.ElapsedMilliseconds);
        }

        // The median: one stall of a loaded machine does not make the toxic look present.
        Assert.True(times.Order().ElementAt(2) < 250, $"{string.Join(", ", times)} ms with the toxic removed");
        proxy.Signal(15);
        Assert.Equal(0, await proxy.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Proxies_from_a_toxiproxy_config_file_listen_at_start_and_a_bad_file_is_one_line()
    {
        await using var server = await TestServer.StartAsync();
        var dir = Repo.TempDir();
        var file = Path.Combine(dir, "toxiproxy.json");
        await File.WriteAllTextAsync(file, $$$"""
            [
              {"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:{{{server.Endpoint.Port}}}", "enabled": true},
              {"name": "two", "listen": "unix://{{{dir}}}/two.sock", "upstream": "127.0.0.1:{{{server.Endpoint.Port}}}"}
            ]
            """);
        await using var proxy = ProcessHarness.StartShout("proxy", "--proxies", file, "--api", "127.0.0.1:0");
        var output = await proxy.WaitForOutputAsync(o => o.Contains("API on http://", StringComparison.Ordinal), Timeout);
        Assert.Contains("two listening on unix://", output, StringComparison.Ordinal);
        var port = int.Parse(ListenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal("HELLO", await SendAsync(port, "hello"));
        proxy.Signal(15);
        Assert.Equal(0, await proxy.WaitForExitAsync(Timeout));

        // The same file with --api none: the proxies without an API.
        await using (var quiet = ProcessHarness.StartShout("proxy", "--proxies", file, "--api", "none"))
        {
            await quiet.WaitForOutputAsync(o => o.Contains("shout proxy: no API (--api none)", StringComparison.Ordinal), Timeout);
            quiet.Signal(15);
            Assert.Equal(0, await quiet.WaitForExitAsync(Timeout));
        }

        await File.WriteAllTextAsync(file, """[{"name": "one", "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:2"}]""");
        var bad = await CliRunner.ShoutAsync(["proxy", "--proxies", file, "--api", "none"], timeout: Timeout);
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("shout proxy: --proxies toxiproxy.json: missing required field: name", bad.Stderr.Trim());
    }

    [Fact]
    public async Task Unix_sockets_on_either_side()
    {
        var dir = Repo.TempDir();
        var serverPath = Path.Combine(dir, "s.sock");
        await using var server = await TestServer.StartAsync(listen: "unix://" + serverPath);
        await using var proxy = await ProxyFixture.StartAsync();
        // tcp in front of a unix server, and a unix proxy in front of that tcp proxy.
        var tcpPort = proxy.Add("to-unix", "unix://" + serverPath);
        var proxyPath = Path.Combine(dir, "p.sock");
        Assert.True(Shout.Toxics.ProxyAddress.TryParse("unix://" + proxyPath, out var listen, out _));
        Assert.True(Shout.Toxics.ProxyAddress.TryParse($"127.0.0.1:{tcpPort}", out var to, out _));
        proxy.Server.Proxies.Add(new Shout.Toxics.ProxyInput("from-unix", listen!, to!, true));

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(proxyPath));
        await socket.SendAsync("over unix"u8.ToArray(), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("OVER UNIX", Encoding.ASCII.GetString(await RawUpstream.ReadToEndAsync(socket, Timeout)));
    }

    private static async Task<string> SendAsync(int port, string text)
    {
        using var socket = await ProxyFixture.ConnectAsync(port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
        return Encoding.ASCII.GetString(await RawUpstream.ReadToEndAsync(socket, Timeout));
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListenLine();

    [GeneratedRegex(@"API on (http://\S+)")]
    private static partial Regex ApiLine();
}
