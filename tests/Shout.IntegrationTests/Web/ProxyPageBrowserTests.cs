using System.Net;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Toxics;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary><c>shout proxy</c>'s own page (<c>GET /</c> on its API port) in Chromium: its proxies, adding and deleting a toxic, and another site's page refused.</summary>
public sealed class ProxyPageBrowserTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_page_lists_every_proxy_and_adds_and_deletes_a_toxic()
    {
        await using var server = await TestServer.StartAsync();
        var file = Path.Combine(Repo.TempDir(), "toxiproxy.json");
        await File.WriteAllTextAsync(file, """[{"name": "datagrams", "listen": "udp://127.0.0.1:0", "upstream": "udp://127.0.0.1:9"}]""");
        await using var proxy = await ProxyPageTests.StandaloneProxy.StartAsync(server.Endpoint.Port, "--proxies", file);
        using var http = new HttpClient { BaseAddress = proxy.Api, Timeout = Timeout };
        var page = await browser.NewPageAsync();
        await page.GotoAsync(proxy.Api.ToString());

        // Every proxy, listen → upstream, its toggle and toxics; each offered the types its kind takes.
        var shout = page.Locator("#toxics [data-proxy=shout]");
        var datagrams = page.Locator("#toxics [data-proxy=datagrams]");
        await Expect(shout).ToContainTextAsync($"127.0.0.1:{proxy.Port} → 127.0.0.1:{server.Endpoint.Port}", new() { Timeout = 30_000 });
        await Expect(shout.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]")).ToHaveValueAsync("1");
        await Expect(shout.Locator("input.toxic-enabled")).ToBeCheckedAsync();
        await Expect(datagrams).ToContainTextAsync("→ udp://127.0.0.1:9");
        await Expect(datagrams.Locator("li.muted")).ToHaveTextAsync("no toxics");
        Assert.Contains("loss", await datagrams.Locator("select[name=type] option").AllTextContentsAsync());
        Assert.DoesNotContain("loss", await shout.Locator("select[name=type] option").AllTextContentsAsync());

        await ToxicsPanelEditBrowserTests.AddAsync(datagrams, "loss", "upstream", attribute: null);
        await Expect(datagrams.Locator("[data-toxic=loss_upstream]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.Equal(["loss_upstream"], await ProxyPageTests.ToxicNamesAsync(http, "datagrams"));

        await ToxicsPanelEditBrowserTests.AddAsync(shout, "slicer", "upstream", ("average_size", "64"));
        await Expect(shout.Locator("[data-toxic=slicer_upstream] input[type=number][data-attr=average_size]")).ToHaveValueAsync("64", new() { Timeout = 30_000 });
        Assert.Equal(["latency_downstream", "slicer_upstream"], await ProxyPageTests.ToxicNamesAsync(http));

        await shout.Locator("[data-toxic=latency_downstream] button.toxic-delete").ClickAsync();
        await Expect(shout.Locator("[data-toxic=latency_downstream]")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        Assert.Equal(["slicer_upstream"], await ProxyPageTests.ToxicNamesAsync(http));
        await Expect(page.Locator("#toxics-error")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_page_from_another_site_cannot_change_the_proxies_through_the_api_port()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyPageTests.StandaloneProxy.StartAsync(server.Endpoint.Port);
        using var http = new HttpClient { BaseAddress = proxy.Api, Timeout = Timeout };
        await using var evilSite = CrossSiteBrowserTests.OtherSite.Start(IPAddress.Parse("127.0.0.2"));
        var api = $"http://127.0.0.1:{proxy.Api.Port}/proxies/shout";
        // toxiproxy's API takes any body as JSON: a no-cors fetch and a text/plain form (JSON in the field's name) are "simple" requests, sent without a preflight.
        var page = await browser.NewPageAsync();
        await evilSite.SendSimpleRequestsAsync(page, $"{api}/toxics", """{"type":"timeout","name":"form"}""",
            ("disable", api, """{"enabled":false}"""),
            ("add", $"{api}/toxics", """{"type":"timeout","name":"fetch"}"""));

        // Each request reached the API and was answered; none changed anything. A client without Origin still may.
        Assert.Equal(["latency_downstream"], await ProxyPageTests.ToxicNamesAsync(http));
        Assert.Contains("\"enabled\":true", await http.GetStringAsync(new Uri("/proxies/shout", UriKind.Relative)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(new Uri("/proxies/shout/toxics/latency_downstream", UriKind.Relative))).StatusCode);
        await page.Context.CloseAsync();
    }
}
