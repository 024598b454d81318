using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Toxics;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary>The page's Toxics panel in a real browser (Debian's Chromium) against a <c>serve --toxic</c> process.</summary>
public sealed class ToxicsPanelBrowserTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_panel_lists_the_toxic_and_moving_its_slider_or_toggle_changes_what_the_api_reports()
    {
        await using var serve = await ServeToxicWebApiTests.ServeAsync("--toxic", "latency:downstream:latency=100,jitter=5");
        using var http = ServeToxicWebApiTests.Http(serve.Web);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(serve.Web.ToString());

        var panel = page.Locator("#toxics");
        await Expect(panel).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var toxic = panel.Locator("[data-proxy=tcp] [data-toxic=latency_downstream]");
        await Expect(toxic).ToContainTextAsync("latency", new() { Timeout = 30_000 });
        await Expect(toxic).ToContainTextAsync("downstream");
        await Expect(toxic.Locator("input[type=number][data-attr=latency]")).ToHaveValueAsync("100");

        // The slider: its change goes to the API, and the panel then shows what the server answered.
        await toxic.Locator("input[type=range][data-attr=latency]").FillAsync("750");
        await Eventually.TrueAsync(async () => await LatencyAsync(http) == 750, Timeout, () => "the API never reported latency 750");
        await Expect(panel.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]")).ToHaveValueAsync("750", new() { Timeout = 30_000 });

        // The number: a value outside the range is refused by the server, shown as its one line, and changes nothing.
        await panel.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]").FillAsync("-5");
        await panel.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]").PressAsync("Enter");
        await Expect(page.Locator("#toxics-error")).ToContainTextAsync("out of range", new() { Timeout = 30_000 });
        Assert.Equal(750, await LatencyAsync(http));

        // The toggle: the proxy disabled, then enabled again.
        await panel.Locator("[data-proxy=tcp] input.toxic-enabled").UncheckAsync();
        await Eventually.TrueAsync(async () => !await EnabledAsync(http), Timeout, () => "the API still reports the proxy enabled");
        await Expect(panel.Locator("[data-proxy=tcp] input.toxic-enabled")).Not.ToBeCheckedAsync(new() { Timeout = 30_000 });
        await panel.Locator("[data-proxy=tcp] input.toxic-enabled").CheckAsync();
        await Eventually.TrueAsync(() => EnabledAsync(http), Timeout, () => "the API still reports the proxy disabled");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Without_toxics_the_page_shows_no_panel()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync();
        var answered = page.WaitForResponseAsync(r => r.Url.EndsWith("/toxiproxy/proxies", StringComparison.Ordinal), new() { Timeout = 30_000 });
        await page.GotoAsync(server.Web().ToString());
        Assert.Equal((int)HttpStatusCode.NotFound, (await answered).Status);
        await Expect(page.Locator("#toxics")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_page_from_another_site_cannot_change_the_toxics_by_no_cors_fetch_or_a_text_form_post()
    {
        await using var serve = await ServeToxicWebApiTests.ServeAsync("--toxic", "latency:downstream:latency=10");
        using var http = ServeToxicWebApiTests.Http(serve.Web);
        await using var evilSite = CrossSiteBrowserTests.OtherSite.Start(IPAddress.Parse("127.0.0.2"));
        var api = $"http://127.0.0.1:{serve.WebPort}/toxiproxy/proxies/tcp";
        var page = await browser.NewPageAsync();
        await evilSite.SendSimpleRequestsAsync(page, api, """{"enabled":false}""",
            ("disable", api, """{"enabled":false}"""),
            ("latency", $"{api}/toxics/latency_downstream", """{"attributes":{"latency":999}}"""));

        // Each request reached the server and was answered; none changed anything.
        Assert.True(await EnabledAsync(http), "another site's page disabled the proxy");
        Assert.Equal(10, await LatencyAsync(http));
        await page.Context.CloseAsync();
    }

    private static async Task<long> LatencyAsync(HttpClient http)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/toxiproxy/proxies/tcp/toxics/latency_downstream", UriKind.Relative)));
        return json.RootElement.GetProperty("attributes").GetProperty("latency").GetInt64();
    }

    private static async Task<bool> EnabledAsync(HttpClient http)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/toxiproxy/proxies/tcp", UriKind.Relative)));
        return json.RootElement.GetProperty("enabled").GetBoolean();
    }
}
