using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>toxiproxy's REST API on <c>shout proxy</c>: its codes and shapes, and toxiproxy's own Node client driving it.</summary>
public sealed class ToxiproxyApiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Bad_api_input_gets_400_with_one_line_and_changes_nothing()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Add("p", "127.0.0.1:9");
        await proxy.AddToxicAsync("p", """{"name":"lag","type":"latency","attributes":{"latency":10}}""");
        var before = await proxy.Http.GetStringAsync("/proxies");
        string[] bad =
        [
            "{bad json",
            """{"type":"nonsense"}""",
            """{"type":"latency","attributes":{"latency":-5}}""",
            """{"type":"latency","attributes":{"latency":99999999999}}""",
            """{"type":"latency","attributes":{"latncy":5}}""",
            """{"type":"latency","toxicity":1.5}""",
            """{"type":"latency","stream":"sideways"}""",
            """{"type":"slicer","attributes":{"average_size":10,"size_variation":10}}""",
            """{"type":"bandwidth","attributes":{"rate":"fast"}}""",
        ];
        foreach (var body in bad)
        {
            using var response = await proxy.PostAsync("/proxies/p/toxics", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);
            Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
            Assert.DoesNotContain('\n', json.RootElement.GetProperty("error").GetString()!);
        }

        using (var update = await proxy.PostAsync("/proxies/p/toxics/lag", """{"attributes":{"latency":-1}}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        }

        using (var create = await proxy.PostAsync("/proxies", """{"name":"q","upstream":"udp://127.0.0.1:9"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        }

        using (var populate = await proxy.PostAsync("/populate", """[{"name":"r","upstream":"127.0.0.1:9"},{"name":"s"}]"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, populate.StatusCode);
        }

        Assert.Equal(before, await proxy.Http.GetStringAsync("/proxies"));
    }

    [Fact]
    public async Task A_web_page_cannot_drive_the_api()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Add("p", "127.0.0.1:9");
        var before = await proxy.Http.GetStringAsync("/proxies");
        foreach (var (header, value) in new[] { ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"), ("Origin", "http://evil.example") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/proxies/p")
            {
                Content = new StringContent("""{"enabled":false}""", Encoding.UTF8, "text/plain"),
            };
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await proxy.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Equal(before, await proxy.Http.GetStringAsync("/proxies"));
    }

    [Fact]
    public async Task Api_answers_with_toxiproxys_codes()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await using var upstream = new RawUpstream(s => RawUpstream.ReadToEndAsync(s, Timeout));
        using (var created = await proxy.PostAsync("/proxies", $$"""{"name":"a","listen":"127.0.0.1:0","upstream":"{{upstream.Address}}"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            var listen = json.RootElement.GetProperty("listen").GetString()!;
            Assert.NotEqual("127.0.0.1:0", listen);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPEndPoint.Parse(listen)); // a proxy made through the API listens and forwards
            await socket.SendAsync("x"u8.ToArray(), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Empty(await RawUpstream.ReadToEndAsync(socket, Timeout));
        }

        using (var again = await proxy.PostAsync("/proxies", """{"name":"a","upstream":"127.0.0.1:9"}"""))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await proxy.Http.GetAsync("/proxies/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await proxy.Http.GetAsync("/proxies/a/toxics/nope")).StatusCode);
        await proxy.AddToxicAsync("a", """{"type":"slow_close","attributes":{"delay":10}}""");
        using (var dup = await proxy.PostAsync("/proxies/a/toxics", """{"type":"slow_close"}"""))
        {
            Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        }

        var toxic = await proxy.Http.GetStringAsync("/proxies/a/toxics/slow_close_downstream");
        Assert.Contains("\"delay\":10", toxic, StringComparison.Ordinal);
        using (var disabled = await proxy.PostAsync("/proxies/a", """{"enabled":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        using (var reset = await proxy.PostAsync("/reset", ""))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        var after = await proxy.Http.GetStringAsync("/proxies/a");
        Assert.Contains("\"enabled\":true", after, StringComparison.Ordinal);
        Assert.Contains("\"toxics\":[]", after, StringComparison.Ordinal);
        using (var populated = await proxy.PostAsync("/populate", """[{"name":"b","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"}]"""))
        {
            Assert.Equal(HttpStatusCode.Created, populated.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await proxy.Http.DeleteAsync("/proxies/b")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await proxy.Http.DeleteAsync("/proxies/b")).StatusCode);
        Assert.Contains("\"version\"", await proxy.Http.GetStringAsync("/version"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Toxiproxys_node_client_drives_the_api_and_the_toxics_act()
    {
        var node = Tools.Require("node");
        var script = Path.Combine(Repo.Root, "tests", "peers", "toxiproxy-client.mjs");
        Assert.True(Directory.Exists(Path.Combine(Repo.Root, "tests", "peers", "node_modules", "toxiproxy-node-client")),
            "run npm ci --prefix tests/peers");
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        await using var client = ProcessHarness.Start(node, [script, proxy.Server.Api!.Address, $"127.0.0.1:{server.Endpoint.Port}"],
            Path.Combine(Repo.Root, "tests", "peers"));
        await client.WaitForOutputAsync(o => o.Contains("added name=lag type=latency latency=300", StringComparison.Ordinal), Timeout);
        var port = proxy.Server.Proxies.Get("node").Listen.Endpoint.Port;
        Assert.InRange(await RoundTripMsAsync(port), 290, 5000);
        await client.Stdin.WriteLineAsync("go");
        await client.Stdin.FlushAsync();
        await client.WaitForOutputAsync(o => o.Contains("updated latency=600 jitter=0", StringComparison.Ordinal), Timeout);
        Assert.InRange(await RoundTripMsAsync(port), 590, 5000);
        await client.Stdin.WriteLineAsync("go");
        await client.Stdin.FlushAsync();
        var output = await client.WaitForOutputAsync(o => o.Contains("done", StringComparison.Ordinal) || client.HasExited, Timeout);
        Assert.Equal(0, await client.WaitForExitAsync(Timeout));
        Assert.Contains("created name=node listen=127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("listed proxies=node lag=600", output, StringComparison.Ordinal);
        Assert.Contains("removed toxics=0", output, StringComparison.Ordinal);
        Assert.Contains("reset toxics=0 enabled=true", output, StringComparison.Ordinal);
        Assert.Contains("bad refused", output, StringComparison.Ordinal);
        Assert.Empty(proxy.Server.Proxies.All);
    }

    private static async Task<double> RoundTripMsAsync(int port)
    {
        using var socket = await ProxyFixture.ConnectAsync(port);
        var watch = Stopwatch.StartNew();
        await socket.SendAsync("hi"u8.ToArray(), SocketFlags.None);
        var buffer = new byte[8];
        using var cts = new CancellationTokenSource(Timeout);
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        Assert.Equal("HI", Encoding.ASCII.GetString(buffer, 0, n));
        return watch.Elapsed.TotalMilliseconds;
    }

    [Fact]
    public async Task A_bad_toxic_flag_is_one_line_and_exit_2()
    {
        var result = await CliRunner.ShoutAsync(["proxy", "-l", "127.0.0.1:0", "--to", "127.0.0.1:9", "--toxic", "latency:downstream:latency=-3"]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("shout proxy: --toxic 'latency:downstream:latency=-3': latency latency -3 is out of range", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
