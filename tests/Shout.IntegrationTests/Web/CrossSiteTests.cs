using System.Net.Security;
using System.Net.Sockets;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// Row 27: another site's page may not use the web port. <c>/ws</c> and <c>/live</c> serve the page's
/// own origin, <c>--web-origin</c> ones and clients that send no <c>Origin</c>; <c>POST /reload</c>
/// needs the token in a header and is rate-limited; a reload says which settings need a restart.
/// </summary>
public sealed class CrossSiteTests
{
    private const string Token = "correct-horse-battery-staple";
    private static readonly Uri Allowed = new("http://allowed.example:8443");

    public static TheoryData<string, string?, bool> Origins => new()
    {
        { "/ws", null, true },
        { "/ws", "own", true },
        { "/ws", "http://allowed.example:8443", true },
        { "/ws", "null", false },
        { "/ws", "file://", false },
        { "/ws", "http://evil.example", false },
        { "/ws", "other port", false },
        { "/ws", "other scheme", false },
        { "/ws", "http://allowed.example", false },
        { "/live", null, true },
        { "/live", "own", true },
        { "/live", "http://allowed.example:8443", true },
        { "/live", "null", false },
        { "/live", "file://", false },
        { "/live", "http://evil.example", false },
        { "/live", "other port", false },
        { "/live", "other scheme", false },
    };

    [Theory]
    [MemberData(nameof(Origins))]
    public Task Origin_table_for_ws_and_live(string path, string? origin, bool served) =>
        OriginCaseAsync("http", path, origin, served);

    /// <summary>The same table over TLS (wss and https): the page's own origin then has the https scheme.</summary>
    [Theory]
    [MemberData(nameof(Origins))]
    public Task Origin_table_for_wss_and_live_over_https(string path, string? origin, bool served) =>
        OriginCaseAsync("https", path, origin, served);

    private static async Task OriginCaseAsync(string scheme, string path, string? origin, bool served)
    {
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Web.Address = new Uri($"{scheme}://127.0.0.1:0");
            o.Web.AllowedOrigins.Add(Allowed);
        });
        var web = server.Web();
        Assert.Equal(scheme, web.Scheme);
        var header = origin switch
        {
            "own" => $"{web.Scheme}://{web.Authority}",
            "other port" => $"{web.Scheme}://{web.Host}:{(web.Port == 65535 ? 1 : web.Port + 1)}",
            "other scheme" => $"{(web.Scheme == "https" ? "http" : "https")}://{web.Authority}",
            _ => origin,
        };
        var rejectedBefore = server.Metrics.RejectedConnections;

        var head = await RequestHeadAsync(web, path, header, pin: server.Server.TlsCertificate);

        if (served)
        {
            Assert.StartsWith(path == "/ws" ? "HTTP/1.1 101" : "HTTP/1.1 200", head, StringComparison.Ordinal);
            Assert.Equal(rejectedBefore, server.Metrics.RejectedConnections);
        }
        else
        {
            Assert.StartsWith("HTTP/1.1 403", head, StringComparison.Ordinal);
            var reason = head[(head.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
            Assert.StartsWith("ERR ", reason, StringComparison.Ordinal);
            Assert.Contains("Origin", reason, StringComparison.Ordinal);
            Assert.Single(reason.TrimEnd('\n').Split('\n'));
            if (path == "/ws")
            {
                Assert.Equal(rejectedBefore + 1, server.Metrics.RejectedConnections);
            }
            else
            {
                Assert.Contains("shout_web_refused_total{path=\"/live\",reason=\"cross_origin\"} 1", await ScrapeAsync(server), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task An_allowed_origin_may_read_live_and_a_no_cors_request_from_another_site_may_not()
    {
        await using var server = await WebServer.StartAsync(w => w.AllowedOrigins.Add(Allowed));
        var allowed = await RequestHeadAsync(server.Web(), "/live", "http://allowed.example:8443");
        Assert.Contains("Access-Control-Allow-Origin: http://allowed.example:8443", allowed, StringComparison.OrdinalIgnoreCase);

        // A no-cors fetch carries no Origin; the browser's Sec-Fetch-Site still says where it came from.
        var noCors = await RequestHeadAsync(server.Web(), "/live", null, "Sec-Fetch-Site: cross-site");
        Assert.StartsWith("HTTP/1.1 403", noCors, StringComparison.Ordinal);
        var own = await RequestHeadAsync(server.Web(), "/live", null, "Sec-Fetch-Site: same-origin");
        Assert.StartsWith("HTTP/1.1 200", own, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shout_s_own_websocket_client_sends_no_origin_and_is_served()
    {
        await using var server = await WebServer.StartAsync();
        await using var client = ProcessHarness.StartShout("send", "-a", server.WebSocketUri().ToString(), "cross site");
        Assert.Equal(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("CROSS SITE", client.Stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string?, string?, HttpStatusCode> Tokens => new()
    {
        { null, null, HttpStatusCode.Unauthorized },
        { "Authorization", "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:" + Token)), HttpStatusCode.Unauthorized },
        { "Authorization", "Bearer wrong-token-wrong-token", HttpStatusCode.Forbidden },
        { "X-Shout-Reload-Token", "wrong-token-wrong-token", HttpStatusCode.Forbidden },
        { "Authorization", "Bearer " + Token[..^1], HttpStatusCode.Forbidden },
        { "Authorization", "Bearer " + Token, HttpStatusCode.OK },
        { "Authorization", "bearer " + Token, HttpStatusCode.OK },
        { "X-Shout-Reload-Token", Token, HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Tokens))]
    public async Task Reload_token_table(string? header, string? value, HttpStatusCode expected)
    {
        var reloads = 0;
        await using var server = await ReloadServerAsync(TimeSpan.Zero, () => reloads++);
        using var http = server.Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/reload");
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, reloads);
        Assert.Single(body.TrimEnd('\n').Split('\n'));
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Fact]
    public async Task Reloads_are_rate_limited_with_retry_after()
    {
        var reloads = 0;
        await using var server = await ReloadServerAsync(TimeSpan.FromHours(1), () => reloads++);
        using var http = server.Http();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 50; i++)
        {
            using var response = await PostReloadAsync(http, Token);
            statuses.Add(response.StatusCode);
            if (i > 0)
            {
                Assert.Equal(3600, (int)response.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
            }
        }

        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.All(statuses.Skip(1), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(1, reloads);
        Assert.Contains("shout_web_refused_total{path=\"/reload\",reason=\"rate_limited\"} 49", await ScrapeAsync(server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_that_changes_restart_only_settings_answers_409_naming_them_and_applies_the_rest()
    {
        var fresh = Options(o =>
        {
            o.Mode = ShoutMode.Line;
            o.IdleTimeout = TimeSpan.FromSeconds(30);
            o.MaxConnections = 7;
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
        });
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
        });
        server.Server.ReloadSource = () => fresh();
        using var http = server.Http();
        using var response = await PostReloadAsync(http, Token);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("reloaded: max connections 10000 -> 7", body, StringComparison.Ordinal);
        var restart = Assert.Single(body.Split('\n'), l => l.StartsWith("not applied, restart needed: ", StringComparison.Ordinal));
        Assert.Contains("--mode stream -> line", restart, StringComparison.Ordinal);
        Assert.Contains("--idle-timeout 300s -> 30s", restart, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, body, StringComparison.Ordinal);

        // Still not applied on the next reload: it says so again until a restart.
        var again = server.Server.Reload();
        Assert.Empty(again.Changes);
        Assert.Equal(["--mode stream -> line", "--idle-timeout 300s -> 30s"], again.RestartNeeded);
    }

    [Fact]
    public async Task A_changed_reload_token_is_reported_without_its_value()
    {
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
        });
        server.Server.ReloadSource = Options(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = "another-token-of-enough-length";
        });
        var result = server.Server.Reload();
        Assert.Equal("reload token changed", Assert.Single(result.RestartNeeded));
    }

    private static Func<Shout.Hosting.ShoutServerOptions> Options(Action<Shout.Hosting.ShoutServerOptions> configure) => () =>
    {
        var options = new Shout.Hosting.ShoutServerOptions();
        options.Listen.Add(Shout.Endpoints.ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
        options.Web.Address = new Uri("http://127.0.0.1:0");
        configure(options);
        return options;
    };

    private static async Task<TestServer> ReloadServerAsync(TimeSpan interval, Action reloaded)
    {
        var server = await WebServer.StartServerAsync(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
            o.Web.ReloadInterval = interval;
        });
        var same = Options(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
            o.Web.ReloadInterval = interval;
        });
        server.Server.ReloadSource = () =>
        {
            reloaded();
            return same();
        };
        return server;
    }

    private static Task<HttpResponseMessage> PostReloadAsync(HttpClient http, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/reload");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    private static async Task<string> ScrapeAsync(TestServer server)
    {
        // Over https, trust only the certificate the server generated at start.
        var pin = server.Server.TlsCertificate?.GetCertHashString();
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pin },
        };
        using var http = new HttpClient(handler) { BaseAddress = server.Web(), Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetStringAsync("/metrics");
    }

    /// <summary>
    /// Sends one GET (a WebSocket upgrade for <c>/ws</c>) with the given Origin and extra header, and
    /// returns the response head, plus the body when the server closes or refuses.
    /// </summary>
    private static async Task<string> RequestHeadAsync(Uri web, string path, string? origin, string? extra = null, X509Certificate2? pin = null)
    {
        using var socket = await RawClient.ConnectAsync(Shout.Endpoints.ShoutEndpoint.ForTcp(web.Host, web.Port));
        await using var stream = await OpenAsync(socket, web, pin);
        var request = new StringBuilder($"GET {path} HTTP/1.1\r\nHost: {web.Authority}\r\n");
        if (path == "/ws")
        {
            request.Append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
        }

        if (origin is not null)
        {
            request.Append($"Origin: {origin}\r\n");
        }

        if (extra is not null)
        {
            request.Append(extra).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var text = received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && (text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)))
            {
                return text;
            }

            if (end >= 0 && text.EndsWith('\n') && text.Length > end + 4 && text.Contains("ERR ", StringComparison.Ordinal))
            {
                return Dechunk(text, end);
            }

            var n = await stream.ReadAsync(buffer, deadline.Token);
            if (n == 0)
            {
                return Dechunk(text, end);
            }

            received.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
    }

    /// <summary>The connection's stream: TLS for an https web port, trusting only <paramref name="pin"/> (the one generated at start).</summary>
    private static async Task<Stream> OpenAsync(Socket socket, Uri web, X509Certificate2? pin)
    {
        var network = new NetworkStream(socket, ownsSocket: false);
        if (web.Scheme != Uri.UriSchemeHttps)
        {
            return network;
        }

        var expected = pin?.GetCertHashString() ?? throw new InvalidOperationException("an https web port without a certificate");
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == expected,
        }, timeout.Token);
        return tls;
    }

    // The refusal body comes chunked ("4f\r\nERR …\n\r\n"): keep the head and the one text line.
    private static string Dechunk(string text, int end)
    {
        if (end < 0)
        {
            return text;
        }

        var body = text[(end + 4)..];
        var line = body.Split("\r\n").FirstOrDefault(l => l.StartsWith("ERR ", StringComparison.Ordinal)) ?? body;
        return text[..(end + 4)] + line;
    }
}
