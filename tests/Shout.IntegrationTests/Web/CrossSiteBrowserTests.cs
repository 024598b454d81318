using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// Row 27 in a real browser (Debian's Chromium): a page from another loopback origin tries the server's
/// <c>/ws</c>, a form post and a no-cors fetch to <c>/reload</c>. The server refuses each and does not
/// reload; the same page from an origin given to <c>--web-origin</c> does get its WebSocket (the control
/// that shows the page would reach the server if it were allowed).
/// </summary>
public sealed class CrossSiteBrowserTests(Browser browser) : IClassFixture<Browser>
{
    private const string Token = "correct-horse-battery-staple";

    [Fact]
    public async Task A_page_from_another_origin_gets_no_websocket_and_cannot_reload_by_form_post_or_no_cors_fetch()
    {
        await using var allowedSite = OtherSite.Start(IPAddress.Parse("127.0.0.3"));
        var reloads = 0;
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = Token;
            o.Web.ReloadInterval = TimeSpan.Zero;
            o.Web.AllowedOrigins.Add(allowedSite.Origin);
        });
        server.Server.ReloadSource = () =>
        {
            Interlocked.Increment(ref reloads);
            throw new FormatException("no reload was expected");
        };
        await using var evilSite = OtherSite.Start(IPAddress.Parse("127.0.0.2"));
        var target = server.Web();
        evilSite.Page = allowedSite.Page = Page(target);

        var evil = await browser.NewPageAsync();
        await evil.GotoAsync(evilSite.Origin.ToString());
        await evil.WaitForFunctionAsync("() => window.results && window.results.ws && window.results.fetch", null, new() { Timeout = 30_000 });
        Assert.Equal("refused", await evil.EvaluateAsync<string>("() => window.results.ws"));

        // The form post and the fetch each reached the server and were refused for want of the token.
        await Eventually.TrueAsync(() => Scrape(server).Contains("shout_web_refused_total{path=\"/reload\",reason=\"unauthorized\"} 2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), () => "reload refusals: " + string.Join(' ', Scrape(server).Split('\n').Where(l => l.StartsWith("shout_web_refused", StringComparison.Ordinal))));
        Assert.Equal(1, server.Metrics.RejectedConnections);
        Assert.Equal(0, server.Metrics.AcceptedConnections);

        var allowed = await browser.NewPageAsync();
        await allowed.GotoAsync(allowedSite.Origin.ToString());
        await allowed.WaitForFunctionAsync("() => window.results && window.results.message", null, new() { Timeout = 30_000 });
        Assert.Equal("SECRET", await allowed.EvaluateAsync<string>("() => window.results.message"));

        Assert.Equal(0, Volatile.Read(ref reloads));
        await evil.Context.CloseAsync();
        await allowed.Context.CloseAsync();
    }

    private static string Page(Uri target)
    {
        var http = target.ToString().TrimEnd('/');
        var ws = "ws" + http[4..];
        return $$"""
            <!doctype html><meta charset="utf-8"><title>another site</title>
            <iframe name="sink"></iframe>
            <form id="f" method="post" action="{{http}}/reload" target="sink"><input name="x" value="1"></form>
            <script>
            window.results = {};
            const ws = new WebSocket("{{ws}}/ws");
            ws.onopen = () => { window.results.ws = "open"; ws.send("secret"); };
            ws.onmessage = e => { window.results.message = e.data; };
            ws.onclose = () => { window.results.ws = window.results.ws || "refused"; };
            fetch("{{http}}/reload", { method: "POST", mode: "no-cors", body: "x=1" })
              .then(() => { window.results.fetch = "sent"; }, () => { window.results.fetch = "failed"; });
            document.getElementById("f").submit();
            </script>
            """;
    }

    private static string Scrape(TestServer server)
    {
        using var http = server.Http();
        return http.GetStringAsync("/metrics").GetAwaiter().GetResult();
    }

    /// <summary>Another site: a tiny HTTP server on its own loopback address that answers every request with <see cref="Page"/>.</summary>
    internal sealed class OtherSite : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private OtherSite(TcpListener listener)
        {
            _listener = listener;
            var endPoint = (IPEndPoint)listener.LocalEndpoint;
            Origin = new Uri($"http://{endPoint.Address}:{endPoint.Port}");
            _loop = Task.Run(ServeAsync);
        }

        public Uri Origin { get; }

        public string Page { get; set; } = "";

        /// <summary>
        /// Serves a page that sends "simple" cross-site requests, sent without a preflight: a
        /// text/plain form posted to <paramref name="formAction"/> whose one field's name carries
        /// <paramref name="formJson"/> (the form's '=' swallowed by a trailing string: a classic JSON
        /// CSRF), and a no-cors POST per fetch. Opens it in <paramref name="page"/> and waits until
        /// every request was answered; throws unless the first fetch was sent.
        /// </summary>
        public async Task SendSimpleRequestsAsync(Microsoft.Playwright.IPage page, string formAction, string formJson,
            params (string Key, string Url, string Body)[] fetches)
        {
            var sends = string.Join("\n", fetches.Select(f => $"sent(\"{f.Key}\", fetch(\"{f.Url}\", {{ method: \"POST\", mode: \"no-cors\", body: '{f.Body}' }}));"));
            Page = $$$"""
                <!doctype html><meta charset="utf-8"><title>another site</title>
                <iframe name="sink" id="sink"></iframe>
                <form id="f" method="post" enctype="text/plain" action="{{{formAction}}}" target="sink"><input name='{{{formJson.TrimEnd('}')}}},"x":"' value='"}'></form>
                <script>
                window.results = {};
                const sent = (key, p) => p.then(() => { window.results[key] = "sent"; }, () => { window.results[key] = "failed"; });
                {{{sends}}}
                document.getElementById("sink").addEventListener("load", () => { window.results.form = "loaded"; });
                document.getElementById("f").submit();
                </script>
                """;
            await page.GotoAsync(Origin.ToString());
            var all = string.Join(" && ", fetches.Select(f => $"window.results.{f.Key}").Append("window.results.form"));
            await page.WaitForFunctionAsync($"() => window.results && {all}", null, new() { Timeout = 30_000 });
            Assert.Equal("sent", await page.EvaluateAsync<string>($"() => window.results.{fetches[0].Key}"));
        }

        public static OtherSite Start(IPAddress address)
        {
            var listener = new TcpListener(address, 0);
            listener.Start();
            return new OtherSite(listener);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }

            _stop.Dispose();
        }

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                try
                {
                    await AnswerAsync(client);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    // The browser gave up on this connection (a favicon, a preconnect): the next one is served.
                }
            }
        }

        private async Task AnswerAsync(TcpClient client)
        {
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                var body = Encoding.UTF8.GetBytes(Page);
                var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);
                await stream.WriteAsync(body, _stop.Token);
            }
        }
    }
}
