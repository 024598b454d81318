using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// <c>serve --toxic</c>'s toxics driven at runtime through toxiproxy's API on the server's web port
/// (<c>/toxiproxy/…</c>, what the page's Toxics panel uses): listed, changed with the effect measured,
/// disabled and enabled; refused to other sites' pages and outside the admin networks; 404 without toxics.
/// </summary>
public sealed partial class ServeToxicWebApiTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_web_port_lists_the_front_proxy_and_a_latency_set_there_acts_on_an_open_connection()
    {
        await using var serve = await ServeAsync("--toxic", "latency:downstream:latency=10");
        using var http = Http(serve.Web);

        using var listed = JsonDocument.Parse(await GetAsync(http, "/toxiproxy/proxies"));
        var proxy = listed.RootElement.GetProperty("tcp");
        Assert.Equal($"127.0.0.1:{serve.Public}", proxy.GetProperty("listen").GetString());
        Assert.True(proxy.GetProperty("enabled").GetBoolean());
        var toxic = Assert.Single(proxy.GetProperty("toxics").EnumerateArray());
        Assert.Equal("latency_downstream", toxic.GetProperty("name").GetString());
        Assert.Equal(10, toxic.GetProperty("attributes").GetProperty("latency").GetInt64());

        // Round trips through the toxic and straight to the internal listener (which takes a PROXY
        // header) interleaved, compared by median: the machine's load moves both alike.
        using var client = await ProxyFixture.ConnectAsync(serve.Public);
        using var straight = await ProxyFixture.ConnectAsync(serve.Internal);
        await straight.SendAsync("PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n"u8.ToArray(), SocketFlags.None);
        var before = await AddedMsAsync(client, straight, 20);
        using (var changed = await PostAsync(http, "/toxiproxy/proxies/tcp/toxics/latency_downstream", """{"attributes":{"latency":200}}"""))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            using var body = JsonDocument.Parse(await changed.Content.ReadAsStringAsync());
            Assert.Equal(200, body.RootElement.GetProperty("attributes").GetProperty("latency").GetInt64());
        }

        // The same connection, from its next chunk: 200 ms added (never early, at most 30 % late).
        var after = await AddedMsAsync(client, straight, 20);
        log.WriteLine($"latency 10 → 200 ms through /toxiproxy: added {before:F1} → {after:F1} ms at the median of 20 round trips");
        LatencyAdded.Check(after, 200, $"{before:F1} ms with latency 10 before, then 10 → 200 on the same connection", roundTrips: 20);
        using var shown = JsonDocument.Parse(await GetAsync(http, "/toxiproxy/proxies/tcp/toxics/latency_downstream"));
        Assert.Equal(200, shown.RootElement.GetProperty("attributes").GetProperty("latency").GetInt64());

        // Bad input: toxiproxy's one-line 400, and nothing changes.
        using (var bad = await PostAsync(http, "/toxiproxy/proxies/tcp/toxics/latency_downstream", """{"attributes":{"latency":-1}}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("out of range", OneLine(await bad.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }

        // The fronts are the server's own listeners: not moved, deleted or added to.
        using (var moved = await PostAsync(http, "/toxiproxy/proxies/tcp", """{"upstream":"127.0.0.1:1"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
        }

        using (var deleted = await http.DeleteAsync(new Uri("/toxiproxy/proxies/tcp", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
            OneLine(await deleted.Content.ReadAsStringAsync());
        }

        Assert.Contains("\"latency\":200", await GetAsync(http, "/toxiproxy/proxies/tcp/toxics"), StringComparison.Ordinal);
        serve.Process.Signal(15);
        Assert.Equal(0, await serve.Process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Disabled_through_the_web_port_the_public_port_resets_and_refuses_and_enabled_again_it_serves()
    {
        await using var serve = await ServeAsync("--toxic", "latency:downstream:latency=1");
        using var http = Http(serve.Web);
        using var open = await ProxyFixture.ConnectAsync(serve.Public);
        await MedianRoundTripMsAsync(open, 1);

        using (var off = await PostAsync(http, "/toxiproxy/proxies/tcp", """{"enabled":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
            Assert.Contains("\"enabled\":false", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The open connection is reset, as toxiproxy's disable does; a new one is refused by the kernel.
        var buffer = new byte[16];
        using (var cts = new CancellationTokenSource(Timeout))
        {
            var reset = await Assert.ThrowsAsync<SocketException>(async () => await open.ReceiveAsync(buffer, SocketFlags.None, cts.Token));
            Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
        }

        var refused = await Assert.ThrowsAsync<SocketException>(() => ProxyFixture.ConnectAsync(serve.Public));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        using (var on = await PostAsync(http, "/toxiproxy/proxies/tcp", """{"enabled":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        }

        using var again = await ProxyFixture.ConnectAsync(serve.Public);
        await MedianRoundTripMsAsync(again, 3);
        serve.Process.Signal(15);
        Assert.Equal(0, await serve.Process.WaitForExitAsync(Timeout));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_unix_front_disabled_and_enabled_again_keeps_its_unix_mode_and_serves()
    {
        var path = Path.Combine(Repo.TempDir(), "front.sock");
        await using var serve = ProcessHarness.StartShout("serve", "-l", $"unix://{path}", "--unix-mode", "604", "--web", "http://127.0.0.1:0",
            "--toxic", "latency:downstream:latency=1");
        var output = await serve.WaitForOutputAsync(o => o.Contains($"unix://{path} through", StringComparison.Ordinal) && WebLine().IsMatch(o), Timeout);
        using var http = Http(new Uri($"http://127.0.0.1:{WebLine().Match(output).Groups[1].Value}/"));
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead;
        Assert.Equal(mode, File.GetUnixFileMode(path));
        foreach (var enabled in new[] { "false", "true" })
        {
            using var changed = await PostAsync(http, "/toxiproxy/proxies/unix", $$"""{"enabled":{{enabled}}}""");
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        Assert.Equal(mode, File.GetUnixFileMode(path));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await MedianRoundTripMsAsync(client, 1);
        serve.Signal(15);
        Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task A_change_from_another_sites_page_is_refused_403_and_changes_nothing_while_the_pages_own_origin_may()
    {
        // friend.example may read /live (--web-origin), but only the page itself changes the toxics.
        await using var serve = await ServeAsync("--toxic", "latency:downstream:latency=10", "--web-origin", "http://friend.example");
        using var http = Http(serve.Web);
        const string path = "/toxiproxy/proxies/tcp/toxics/latency_downstream";
        foreach (var (header, value) in new[]
        {
            ("Origin", "http://evil.example"),
            ("Origin", "http://friend.example"),
            ("Origin", "null"),
            ("Sec-Fetch-Site", "cross-site"),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"attributes":{"latency":999}}""", Encoding.UTF8, "text/plain") };
            request.Headers.Add(header, value);
            using var refused = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            log.WriteLine($"{header}: {value} → {OneLine(await refused.Content.ReadAsStringAsync())}");

            using var disable = new HttpRequestMessage(HttpMethod.Post, "/toxiproxy/proxies/tcp") { Content = new StringContent("""{"enabled":false}""") };
            disable.Headers.Add(header, value);
            using var refusedDisable = await http.SendAsync(disable);
            Assert.Equal(HttpStatusCode.Forbidden, refusedDisable.StatusCode);
        }

        using (var unchanged = JsonDocument.Parse(await GetAsync(http, "/toxiproxy/proxies")))
        {
            var proxy = unchanged.RootElement.GetProperty("tcp");
            Assert.True(proxy.GetProperty("enabled").GetBoolean());
            Assert.Equal(10, proxy.GetProperty("toxics")[0].GetProperty("attributes").GetProperty("latency").GetInt64());
        }

        using var client = await ProxyFixture.ConnectAsync(serve.Public);
        Assert.True(await MedianRoundTripMsAsync(client, 5) < 900, "a refused change acted on the connection");

        // The page's own origin (what its panel sends) is served.
        using var own = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"attributes":{"latency":20}}""", Encoding.UTF8, "application/json") };
        own.Headers.Add("Origin", $"http://127.0.0.1:{serve.WebPort}");
        own.Headers.Add("Sec-Fetch-Site", "same-origin");
        using var served = await http.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        serve.Process.Signal(15);
        Assert.Equal(0, await serve.Process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Outside_the_admin_networks_the_toxics_are_403_and_without_toxics_the_paths_are_404_in_one_line()
    {
        // Loopback is not an admin network here, so this test's client is any client.
        await using (var serve = await ServeAsync("--toxic", "latency:downstream:latency=10", "--admin-allow", "10.9.8.0/24"))
        {
            using var http = Http(serve.Web);
            using var read = await http.GetAsync(new Uri("/toxiproxy/proxies", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
            Assert.Contains("admin networks", OneLine(await read.Content.ReadAsStringAsync()), StringComparison.Ordinal);
            using var change = await PostAsync(http, "/toxiproxy/proxies/tcp", """{"enabled":false}""");
            Assert.Equal(HttpStatusCode.Forbidden, change.StatusCode);
            using var client = await ProxyFixture.ConnectAsync(serve.Public);
            await MedianRoundTripMsAsync(client, 1); // still enabled
        }

        await using var plain = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0");
        var output = await plain.WaitForOutputAsync(o => WebLine().IsMatch(o), Timeout);
        using var web = Http(new Uri($"http://127.0.0.1:{WebLine().Match(output).Groups[1].Value}/"));
        foreach (var path in new[] { "/toxiproxy/proxies", "/toxiproxy/proxies/tcp/toxics", "/toxiproxy/version", "/toxiproxy" })
        {
            using var missing = await web.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("no toxics", OneLine(await missing.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }

        using var post = await PostAsync(web, "/toxiproxy/proxies/tcp", """{"enabled":false}""");
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Contains("no toxics", OneLine(await post.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    internal sealed record Serve(ProcessHarness Process, int Public, int Internal, int WebPort) : IAsyncDisposable
    {
        public Uri Web => new($"http://127.0.0.1:{WebPort}/");

        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    /// <summary>A <c>serve --toxic</c> on tcp and the web port (both port 0), with both ports read from its output.</summary>
    internal static async Task<Serve> ServeAsync(params string[] extra)
    {
        var process = ProcessHarness.StartShout(["serve", "-l", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0", .. extra]);
        var output = await process.WaitForOutputAsync(o => ToxicLine().IsMatch(o) && WebLine().IsMatch(o), Timeout);
        return new Serve(process, int.Parse(ToxicLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            int.Parse(ToxicLine().Match(output).Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(WebLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
    }

    internal static HttpClient Http(Uri web) => new() { BaseAddress = web, Timeout = Timeout };

    private static async Task<string> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string json) =>
        http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>The body is toxiproxy's error on one line: {"error": …, "status": N} and a newline.</summary>
    private static string OneLine(string body)
    {
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>What <paramref name="slow"/> adds to a round trip over <paramref name="plain"/>, at the median of <paramref name="count"/> interleaved pairs.</summary>
    internal static async Task<double> AddedMsAsync(Socket slow, Socket plain, int count)
    {
        var slowTimes = new List<double>();
        var plainTimes = new List<double>();
        for (var i = 0; i < count; i++)
        {
            plainTimes.Add(await MedianRoundTripMsAsync(plain, 1));
            slowTimes.Add(await MedianRoundTripMsAsync(slow, 1));
        }

        return slowTimes.Order().ElementAt(count / 2) - plainTimes.Order().ElementAt(count / 2);
    }

    private static Task<double> MedianRoundTripMsAsync(Socket socket, int count) => PingRoundTrips.MedianMsAsync(socket, count, Timeout);

    [GeneratedRegex(@"shout: tcp://127\.0\.0\.1:(\d+) through \S+ \(served on tcp://127\.0\.0\.1:(\d+)\)")]
    private static partial Regex ToxicLine();

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex WebLine();
}
