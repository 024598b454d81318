using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// <c>shout proxy</c>'s page on its API port (<c>GET /</c>) and who may use the API from a browser
/// now that a browser is served there: only the page itself (its Host names this machine, its
/// changes carry its own Origin). Clients that are not browsers (curl, toxiproxy clients) are served
/// as before. In Chromium: <c>Web/ProxyPageBrowserTests</c>.
/// </summary>
public sealed partial class ProxyPageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

    [Fact]
    public async Task The_api_port_serves_the_page_and_a_browser_may_change_the_toxics_only_from_it_while_curl_is_served_as_before()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await StandaloneProxy.StartAsync(server.Endpoint.Port);
        using var http = new HttpClient { BaseAddress = proxy.Api, Timeout = Timeout };

        using (var page = await http.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("/toxics.js", html, StringComparison.Ordinal);
            Assert.Contains("data-api=\"/proxies\"", html, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/toxics.js", UriKind.Relative))).StatusCode);

        // A browser from another site, or one whose Host is another name (DNS rebinding), or a change
        // naming no Origin: refused in one line, nothing changed.
        var own = proxy.Api.GetLeftPart(UriPartial.Authority);
        var refused = new (string What, string Method, string Path, (string, string)[] Headers, HttpStatusCode Status)[]
        {
            ("another site's Origin", "POST", "/proxies/shout/toxics", [("Origin", "http://evil.example"), ("User-Agent", Chrome)], HttpStatusCode.Forbidden),
            ("another site's Origin without a browser's User-Agent", "POST", "/proxies/shout/toxics", [("Origin", "http://evil.example")], HttpStatusCode.Forbidden),
            ("Origin null", "POST", "/proxies/shout/toxics", [("Origin", "null"), ("User-Agent", Chrome)], HttpStatusCode.Forbidden),
            ("a browser's change without Origin", "POST", "/proxies/shout/toxics", [("User-Agent", Chrome)], HttpStatusCode.Forbidden),
            ("a browser's delete without Origin", "DELETE", "/proxies/shout/toxics/latency_downstream", [("User-Agent", Chrome)], HttpStatusCode.Forbidden),
            ("a cross-site read", "GET", "/proxies", [("Sec-Fetch-Site", "cross-site"), ("User-Agent", Chrome)], HttpStatusCode.Forbidden),
            ("a rebound name with its own origin", "POST", "/proxies/shout/toxics",
                [("Host", $"evil.example:{proxy.Api.Port}"), ("Origin", $"http://evil.example:{proxy.Api.Port}"), ("User-Agent", Chrome)], HttpStatusCode.MisdirectedRequest),
        };
        foreach (var (what, method, path, headers, status) in refused)
        {
            using var answer = await SendAsync(http, method, path, """{"type":"latency","name":"evil","attributes":{"latency":999}}""", headers);
            Assert.True(answer.StatusCode == status, $"{what}: {(int)answer.StatusCode}, expected {(int)status}");
            var error = await ErrorLineAsync(answer);
            Assert.False(string.IsNullOrWhiteSpace(error), what);
        }

        Assert.Equal(["latency_downstream"], await ToxicNamesAsync(http));

        // The page's own requests: its reads (same-origin, no Origin) and its changes (its own Origin).
        using (var read = await SendAsync(http, "GET", "/proxies", null, [("Sec-Fetch-Site", "same-origin"), ("User-Agent", Chrome)]))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using (var added = await SendAsync(http, "POST", "/proxies/shout/toxics", """{"type":"slow_close","attributes":{"delay":5}}""",
            [("Origin", own), ("Sec-Fetch-Site", "same-origin"), ("User-Agent", Chrome)]))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        Assert.Equal(["latency_downstream", "slow_close_downstream"], await ToxicNamesAsync(http));

        // curl or a toxiproxy client: no Origin, no browser's headers, served as without the page.
        using (var removed = await http.DeleteAsync(new Uri("/proxies/shout/toxics/slow_close_downstream", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        using (var plain = await SendAsync(http, "POST", "/proxies/shout/toxics", """{"type":"bandwidth","attributes":{"rate":100}}""", []))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }

        Assert.Equal(["latency_downstream", "bandwidth_downstream"], await ToxicNamesAsync(http));
        proxy.Process.Signal(15);
        Assert.Equal(0, await proxy.Process.WaitForExitAsync(Timeout));
    }

    internal static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path, string? json, (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers)
        {
            if (name == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return await http.SendAsync(request);
    }

    /// <summary>toxiproxy's error, one line: {"error": …, "status": N}.</summary>
    private static async Task<string> ErrorLineAsync(HttpResponseMessage answer)
    {
        var body = await answer.Content.ReadAsStringAsync();
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>The toxics of the proxy <c>shout</c>, as a client without Origin (curl) reads them.</summary>
    internal static async Task<string[]> ToxicNamesAsync(HttpClient http, string proxy = "shout")
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/proxies/{proxy}/toxics", UriKind.Relative)));
        return [.. json.RootElement.EnumerateArray().Select(t => t.GetProperty("name").GetString()!)];
    }

    /// <summary>A <c>shout proxy</c> process: the proxy <c>shout</c> (tcp, a latency toxic of 1 ms) in front of a server, its API on port 0.</summary>
    internal sealed class StandaloneProxy : IAsyncDisposable
    {
        private StandaloneProxy(ProcessHarness process, Uri api, int port)
        {
            Process = process;
            Api = api;
            Port = port;
        }

        public ProcessHarness Process { get; }

        /// <summary>The API's address, which also serves the page (<c>http://127.0.0.1:PORT/</c>).</summary>
        public Uri Api { get; }

        /// <summary>The proxy <c>shout</c>'s port.</summary>
        public int Port { get; }

        public static async Task<StandaloneProxy> StartAsync(int upstreamPort, params string[] extra)
        {
            var process = ProcessHarness.StartShout(["proxy", "-l", "tcp://127.0.0.1:0", "--to", $"tcp://127.0.0.1:{upstreamPort}",
                "--api", "127.0.0.1:0", "--toxic", "latency:downstream:latency=1", .. extra]);
            var output = await process.WaitForOutputAsync(o => ApiLine().IsMatch(o), Timeout);
            return new StandaloneProxy(process, new Uri(ApiLine().Match(output).Groups[1].Value + "/"),
                int.Parse(ListenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
        }

        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    [GeneratedRegex(@"shout listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListenLine();

    [GeneratedRegex(@"API on (http://\S+) \(its page: ")]
    private static partial Regex ApiLine();
}
