using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Trace;

/// <summary>The page's wire trace in Debian's Chromium: a <c>shout send</c> drawn as the tutorial's sequence diagram.</summary>
public sealed class TracePageTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly LocatorAssertionsToBeVisibleOptions Slow = new() { Timeout = 30_000 };

    [Fact]
    public async Task A_shout_send_appears_as_a_sequence_diagram_with_the_handshake_data_and_close()
    {
        await using var server = await WebServer.StartAsync(w => w.Trace = true);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());

        // The capture runs before the traffic: the page says so first.
        await Expect(page.Locator("#trace-status")).ToHaveAttributeAsync("data-state", "on", new() { Timeout = 30_000 });
        var send = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString(), "hello page"]);
        Assert.Equal(0, send.ExitCode);

        var diagram = page.Locator("figure.seq[data-kind=tcp][data-ended=true]").First;
        await Expect(diagram).ToBeVisibleAsync(Slow);
        var arrows = diagram.Locator("g.pkt");
        Assert.True(await arrows.CountAsync() >= 8, $"{await arrows.CountAsync()} arrows");
        await Expect(arrows.Nth(0)).ToHaveAttributeAsync("data-flags", "SYN");
        await Expect(arrows.Nth(0)).ToHaveAttributeAsync("data-from", "client");
        await Expect(arrows.Nth(1)).ToHaveAttributeAsync("data-flags", "SYN-ACK");
        await Expect(arrows.Nth(1)).ToContainTextAsync("seq=y ack=x+1");
        await Expect(arrows.Nth(2)).ToContainTextAsync("ACK seq=x+1 ack=y+1");
        await Expect(diagram.Locator("g.pkt[data-from=client]").Filter(new() { HasText = "\"hello page\"" })).ToHaveCountAsync(1);
        await Expect(diagram.Locator("g.pkt[data-from=server]").Filter(new() { HasText = "\"HELLO PAGE\"" })).ToHaveCountAsync(1);
        await Expect(diagram.Locator("text.state[data-side=client]").Filter(new() { HasText = "TIME_WAIT" })).ToHaveCountAsync(1);
        await Expect(diagram.Locator("text.state[data-side=server]").Filter(new() { HasText = "CLOSED" })).ToHaveCountAsync(1);
        await Expect(diagram.Locator("figcaption .summary")).ToContainTextAsync("the client closed first");

        // Arrows go the right way: a client's packet starts on the client's (left) lifeline.
        var first = await arrows.Nth(0).Locator("line").GetAttributeAsync("x1");
        var second = await arrows.Nth(1).Locator("line").GetAttributeAsync("x1");
        Assert.True(double.Parse(first!, System.Globalization.CultureInfo.InvariantCulture) < double.Parse(second!, System.Globalization.CultureInfo.InvariantCulture));

        await page.Locator("#trace").ScreenshotAsync(new() { Path = Path.Combine(Repo.TempDir(), "trace.png") });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_silence_on_the_wire_is_written_beside_the_arrow_that_ends_it()
    {
        await using var server = await WebServer.StartAsync(w => w.Trace = true);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#trace-status")).ToHaveAttributeAsync("data-state", "on", new() { Timeout = 30_000 });

        // A client that waits 300 ms between its handshake and its line: the scenario, not a synchronisation.
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(server.Endpoint.Host, server.Endpoint.Port);
            await Task.Delay(300);
            var stream = client.GetStream();
            await stream.WriteAsync("late\n"u8.ToArray());
            var buffer = new byte[16];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.True(await stream.ReadAsync(buffer, deadline.Token) > 0);
        }

        var diagram = page.Locator("figure.seq[data-kind=tcp][data-ended=true]").First;
        await Expect(diagram).ToBeVisibleAsync(Slow);
        var late = diagram.Locator("g.pkt[data-from=client]").Filter(new() { HasText = "\"late" });
        await Expect(late).ToHaveCountAsync(1);
        var gap = await late.Locator("text.gap").GetAttributeAsync("data-gap-ms");
        Assert.True(gap is not null && double.Parse(gap, System.Globalization.CultureInfo.InvariantCulture) >= 250, $"gap {gap ?? "not drawn"}");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Without_serve_trace_the_page_says_tracing_is_off()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#trace-status")).ToHaveAttributeAsync("data-state", "off", new() { Timeout = 30_000 });
        await Expect(page.Locator("#trace-status")).ToContainTextAsync("Tracing is off: start the server with --trace");
        await Expect(page.Locator("figure.seq")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }
}
