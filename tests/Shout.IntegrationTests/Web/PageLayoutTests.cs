using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// Issue 22 item 8: the page's text is never cut (tiles, header) at desktop and phone width, a heading
/// scrolled to is not under the sticky header, and its numbers agree with each other.
/// </summary>
public sealed class PageLayoutTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 30_000 };

    // Every element whose text would be cut: the tiles' labels and values, the header's text.
    private const string Measured = ".tile .label, .tile .value, .bar h1, .bar .tagline, #status-text, .live-head h2, .live-badge, #bus";

    [Theory]
    [InlineData(1280, 800, false)]
    [InlineData(390, 844, true)]
    public async Task No_text_in_the_tiles_or_the_header_is_clipped(int width, int height, bool mobile)
    {
        await using var server = await WebServer.StartServerAsync(o => o.Mode = Shout.Hosting.ShoutMode.Room);
        var page = await browser.NewPageAsync(width, height, mobile);
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
        await Expect(page.Locator("#bus")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        var clipped = await ClippedAsync(page);
        var measured = await page.EvaluateAsync<int>("selector => document.querySelectorAll(selector).length", Measured);
        Assert.True(measured >= 12, $"only {measured} elements measured");
        Assert.Empty(clipped);
        await page.Context.CloseAsync();
    }

    /// <summary>The measure itself: a tile value too wide for its tile (values do not wrap) is reported as clipped.</summary>
    [Fact]
    public async Task The_clipping_measure_reports_a_tile_value_wider_than_its_tile()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync(1280, 800, false);
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
        Assert.Empty(await ClippedAsync(page));

        // Set and measured in one script: the live view rewrites the tiles every second and cannot run in between.
        var clipped = await page.EvaluateAsync<string[]>(
            $$"""
            selector => {
              document.querySelector('.tile .value').textContent = '9'.repeat(60);
              return ({{Clipping}})(selector);
            }
            """, Measured);
        Assert.Contains(clipped, c => c.StartsWith("value: \"999", StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    // The measure: every visible element whose text is wider or taller than its box.
    private const string Clipping =
        """
        selector => [...document.querySelectorAll(selector)]
          .filter(e => e.offsetParent !== null && (e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight + 1))
          .map(e => `${e.className || e.id || e.tagName}: "${e.textContent}" ${e.scrollWidth}x${e.scrollHeight} in ${e.clientWidth}x${e.clientHeight}`)
        """;

    private static Task<string[]> ClippedAsync(IPage page) => page.EvaluateAsync<string[]>(Clipping, Measured);

    [Theory]
    [InlineData(1280, 800, false)]
    [InlineData(390, 844, true)]
    public async Task A_heading_scrolled_into_view_is_below_the_sticky_header(int width, int height, bool mobile)
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync(width, height, mobile);
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });

        foreach (var heading in new[] { "TCP states", "Latest connections", "On the wire" })
        {
            var box = await page.EvaluateAsync<double[]>(
                """
                text => {
                  // Room below, so any heading can be scrolled to the top of the window.
                  document.body.style.paddingBottom = "300vh";
                  const h = [...document.querySelectorAll("h2, h3")].find(e => e.textContent === text);
                  h.scrollIntoView({ block: "start", behavior: "instant" });
                  return [h.getBoundingClientRect().top, document.querySelector(".bar").getBoundingClientRect().bottom];
                }
                """, heading);
            var (top, headerBottom) = (box[0], box[1]);
            Assert.True(top >= headerBottom, $"{heading} at {top} px, under the header ending at {headerBottom} px ({width} px wide)");
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Open_connections_and_the_tcp_states_agree_with_the_page_itself_connected()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });

        await using var client = ProcessHarness.StartShout("send", "-a", server.Endpoint.ToString());
        await client.Stdin.WriteAsync("numbers\n");
        await client.Stdin.FlushAsync();
        await client.WaitForLineAsync("NUMBERS", TimeSpan.FromSeconds(30));

        // One tcp client and the page's own WebSocket: two open connections.
        await Expect(page.Locator("#transports li[data-transport=tcp] b")).ToHaveTextAsync("1", Slow);
        await Expect(page.Locator("#transports li[data-transport=ws] b")).ToHaveTextAsync("1", Slow);
        await Expect(page.Locator("#active-total")).ToHaveTextAsync("2", Slow);

        // The Shout ports' ESTABLISHED is the tcp client; the page's own sockets (its /ws and /live at
        // least) are in the Web port column, said to be so.
        var established = page.Locator("#tcp-states tr[data-state=ESTABLISHED] td");
        await Expect(established.Nth(1)).ToHaveTextAsync("1", Slow);
        Assert.True(int.Parse(await established.Nth(2).TextContentAsync() ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 2,
            $"web port ESTABLISHED: {await established.Nth(2).TextContentAsync()}");
        await Expect(page.Locator("#tcp-states thead th").Nth(2)).ToHaveTextAsync("Web port");

        client.Stdin.Close();
        Assert.Equal(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await page.Context.CloseAsync();
    }
}
