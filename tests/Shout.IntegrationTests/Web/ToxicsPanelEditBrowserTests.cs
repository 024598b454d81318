using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Toxics;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// The Toxics panel adding and deleting a toxic, in Chromium against a <c>serve --toxic</c> process:
/// the effect measured on a connection already open, and a refused value shown as the server's line.
/// </summary>
public sealed class ToxicsPanelEditBrowserTests(Browser browser, ITestOutputHelper log) : IClassFixture<Browser>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_latency_added_in_the_panel_acts_on_an_open_connection_and_deleted_there_its_effect_goes()
    {
        // A toxic that does nothing (no rate limit), so the server has a panel to start from.
        await using var serve = await ServeToxicWebApiTests.ServeAsync("--toxic", "bandwidth:upstream:rate=0");
        using var http = ServeToxicWebApiTests.Http(serve.Web);
        using var client = await ProxyFixture.ConnectAsync(serve.Public);
        using var straight = await ProxyFixture.ConnectAsync(serve.Internal);
        await straight.SendAsync("PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n"u8.ToArray(), SocketFlags.None);
        var before = await ServeToxicWebApiTests.AddedMsAsync(client, straight, 20);

        var page = await browser.NewPageAsync();
        await page.GotoAsync(serve.Web.ToString());
        var proxy = page.Locator("#toxics [data-proxy=tcp]");
        await Expect(proxy.Locator("[data-toxic=bandwidth_upstream]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await AddAsync(proxy, "latency", "downstream", ("latency", "200"));
        await Expect(proxy.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]")).ToHaveValueAsync("200", new() { Timeout = 30_000 });
        Assert.Equal(["bandwidth_upstream", "latency_downstream"], await ToxicsAsync(http));

        // The same connection, from its next chunk: 200 ms added (never early, at most 30 % late).
        var added = await ServeToxicWebApiTests.AddedMsAsync(client, straight, 20);
        await proxy.Locator("[data-toxic=latency_downstream] button.toxic-delete").ClickAsync();
        await Expect(proxy.Locator("[data-toxic=latency_downstream]")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        Assert.Equal(["bandwidth_upstream"], await ToxicsAsync(http));
        var after = await ServeToxicWebApiTests.AddedMsAsync(client, straight, 20);
        log.WriteLine($"added in the panel, latency 200 ms: {before:F1} → {added:F1} ms at the median of 20 round trips; deleted there: {after:F1} ms");
        Shout.IntegrationTests.Toxics.LatencyAdded.Check(added, 200, $"{before:F1} ms before, with the panel's latency on the same connection", roundTrips: 20);
        Assert.True(after <= 20, $"still {after:F1} ms added after the panel deleted the latency");
        await Expect(page.Locator("#toxics-error")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_toxic_the_api_refuses_shows_the_servers_line_keeps_the_form_and_changes_nothing()
    {
        await using var serve = await ServeToxicWebApiTests.ServeAsync("--toxic", "latency:downstream:latency=10");
        using var http = ServeToxicWebApiTests.Http(serve.Web);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(serve.Web.ToString());
        var proxy = page.Locator("#toxics [data-proxy=tcp]");
        var error = page.Locator("#toxics-error");
        await Expect(proxy.Locator("[data-toxic=latency_downstream]")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // Out of range (400), a typo that must not become 0 (400), a name taken (409): each the server's own line.
        foreach (var (value, name, expected) in new[]
        {
            ("-5", "slow", "400: latency latency -5 is out of range"),
            ("5O", "slow", "400: bad request body: attribute latency must be a whole number, not \"5O\""),
            ("50", "", "409: toxic already exists"),
        })
        {
            await AddAsync(proxy, "latency", "downstream", ("latency", value), name);
            await Expect(error).ToContainTextAsync(expected, new() { Timeout = 30_000 });
            await Expect(proxy.Locator("details.toxic-add input[data-attr=latency]")).ToHaveValueAsync(value);
            Assert.Equal(["latency_downstream"], await ToxicsAsync(http));
            Assert.Equal(10, await LatencyAsync(http));
        }

        // An existing toxic's number emptied is refused too, not taken for 0.
        var latency = proxy.Locator("[data-toxic=latency_downstream] input[type=number][data-attr=latency]");
        await latency.FillAsync("");
        await latency.PressAsync("Enter");
        await Expect(error).ToContainTextAsync("400: bad request body: attribute latency must be a whole number, not \"\"", new() { Timeout = 30_000 });
        await Expect(latency).ToHaveValueAsync("10", new() { Timeout = 30_000 });
        Assert.Equal(10, await LatencyAsync(http));

        // Corrected, the same form adds it, and the line goes.
        await proxy.Locator("details.toxic-add input[data-attr=latency]").FillAsync("50");
        await proxy.Locator("details.toxic-add input[name=name]").FillAsync("late");
        await proxy.Locator("details.toxic-add button.toxic-add-button").ClickAsync();
        await Expect(proxy.Locator("[data-toxic=late]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(error).ToBeHiddenAsync();
        Assert.Equal(["latency_downstream", "late"], await ToxicsAsync(http));
        await page.Context.CloseAsync();
    }

    /// <summary>Fills the proxy's add form (opening it if closed) and presses add.</summary>
    internal static async Task AddAsync(ILocator proxy, string type, string stream, (string Name, string Value)? attribute, string name = "")
    {
        var form = proxy.Locator("details.toxic-add");
        if (!await form.EvaluateAsync<bool>("d => d.open"))
        {
            await form.Locator("summary").ClickAsync();
        }

        await form.Locator("select[name=type]").SelectOptionAsync(type);
        await form.Locator("select[name=stream]").SelectOptionAsync(stream);
        await form.Locator("input[name=name]").FillAsync(name);
        if (attribute is var (attr, value))
        {
            await form.Locator($"input[data-attr={attr}]").FillAsync(value);
        }

        await form.Locator("button.toxic-add-button").ClickAsync();
    }

    private static async Task<string[]> ToxicsAsync(HttpClient http)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/toxiproxy/proxies/tcp/toxics", UriKind.Relative)));
        return [.. json.RootElement.EnumerateArray().Select(t => t.GetProperty("name").GetString()!)];
    }

    private static async Task<long> LatencyAsync(HttpClient http)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/toxiproxy/proxies/tcp/toxics/latency_downstream", UriKind.Relative)));
        return json.RootElement.GetProperty("attributes").GetProperty("latency").GetInt64();
    }
}
