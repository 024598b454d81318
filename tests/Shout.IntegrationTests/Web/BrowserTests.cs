using System.Net.Sockets;
using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary>The page in a real browser (Debian's Chromium): conversation, reconnect, live view.</summary>
public sealed class BrowserTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 30_000 };

    [Fact]
    public async Task The_page_connects_and_a_typed_message_comes_back_uppercased()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });

        await page.FillAsync("#input", "hello browser ıȿ");
        await page.PressAsync("#input", "Enter");
        await Expect(page.Locator(".msg.you").Last).ToContainTextAsync("hello browser ıȿ", new() { Timeout = 30_000 });
        await Expect(page.Locator(".msg.server").Last).ToContainTextAsync("HELLO BROWSER IⱾ", new() { Timeout = 30_000 });
        Assert.Equal(string.Empty, await page.InputValueAsync("#input"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_page_reconnects_after_the_server_closes_its_socket()
    {
        await using var server = await WebServer.StartServerAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(2));
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());

        // The server closes the idle socket; the page says so, then connects again by itself.
        await Expect(page.Locator(".msg.note").Filter(new() { HasText = "idle timeout" }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
        await Eventually.TrueAsync(() => server.Metrics.AcceptedConnections >= 2, TimeSpan.FromSeconds(30),
            () => $"{server.Metrics.AcceptedConnections} WebSockets accepted");
        await page.FillAsync("#input", "again");
        await page.ClickAsync("#send");
        await Expect(page.Locator(".msg.server").Last).ToHaveTextAsync("serverAGAIN", Slow);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_live_view_counts_a_shout_send_client_while_it_is_connected_and_shows_who_closed()
    {
        await using var server = await WebServer.StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });

        // `shout send` streams stdin: the connection stays open until stdin ends.
        await using var client = ProcessHarness.StartShout("send", "-a", server.Endpoint.ToString());
        await client.Stdin.WriteAsync("live\n");
        await client.Stdin.FlushAsync();
        await client.WaitForLineAsync("LIVE", TimeSpan.FromSeconds(30));

        var tcp = page.Locator("#transports li[data-transport=tcp] b");
        await Expect(tcp).ToHaveTextAsync("1", Slow);
        await Expect(page.Locator("#tcp-states tr[data-state=ESTABLISHED] td").Nth(1)).Not.ToHaveTextAsync("0", Slow);
        await Expect(page.Locator("#events li.opened").Filter(new() { HasText = "connected" }).First).ToBeVisibleAsync();

        client.Stdin.Close();
        Assert.Equal(0, await client.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Expect(tcp).ToHaveTextAsync("0", Slow);
        await Expect(page.Locator("#events li.closed").First).ToContainTextAsync("closed by client (client_closed)", new() { Timeout = 30_000 });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Screenshots_of_the_page_at_desktop_and_phone_width()
    {
        await using var server = await WebServer.StartAsync();
        var folder = Environment.GetEnvironmentVariable("SHOUT_UPDATE_SCREENSHOTS") == "1"
            ? Path.Combine(Repo.Root, "docs", "screenshots")
            : Repo.TempDir();
        Directory.CreateDirectory(folder);

        // Some traffic so the live view has something to show: a few TCP clients chatting for a while.
        using var traffic = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(i => Chatter(server, i, traffic.Token)).ToList();

        string[] conversation = ["hello world", "the server shouts it back", "ünïcödé, ça va"];
        var first = true;
        foreach (var (name, width, height, mobile) in new[] { ("page-desktop.png", 1280, 800, false), ("page-phone.png", 390, 844, true) })
        {
            var page = await browser.NewPageAsync(width, height, mobile);
            await page.GotoAsync(server.Web().ToString());
            await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
            for (var i = 0; i < conversation.Length; i++)
            {
                await page.FillAsync("#input", conversation[i]);
                await page.PressAsync("#input", "Enter");
                await Expect(page.Locator(".msg.server")).ToHaveCountAsync(i + 1, new() { Timeout = 30_000 });
            }

            await Expect(page.Locator(".msg.server").Last).ToHaveTextAsync("serverÜNÏCÖDÉ, ÇA VA", Slow);
            await Expect(page.Locator("#transports li[data-transport=tcp] b")).ToHaveTextAsync("4", Slow);

            // A chart with some history reads better than a spike: wait (once) for 20 one-second samples.
            if (first)
            {
                await page.WaitForFunctionAsync("() => Number(document.getElementById('chart-messages').dataset.points) >= 20",
                    null, new() { Timeout = 60_000 });
                first = false;
            }

            var path = Path.Combine(folder, name);
            await page.ScreenshotAsync(new() { Path = path, FullPage = mobile });
            Assert.True(new FileInfo(path).Length > 10_000, $"{path} looks empty");
            await page.Context.CloseAsync();
        }

        await traffic.CancelAsync();
        await Task.WhenAll(clients);
    }

    private static async Task Chatter(TestServer server, int index, CancellationToken stop)
    {
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        var message = System.Text.Encoding.UTF8.GetBytes($"client {index} says hi\n");
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(message, SocketFlags.None, stop);
                await RawClient.ReadExactlyAsync(socket, message.Length);

                // Pacing for a readable chart, not synchronisation: nothing waits on this.
                await Task.Delay(40 + (index * 25), stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
