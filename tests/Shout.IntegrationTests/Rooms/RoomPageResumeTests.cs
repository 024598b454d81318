using System.Net;
using Microsoft.Playwright;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Toxics;
using Shout.IntegrationTests.Web;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Issue 24, the page's room view in Debian's Chromium: the room's history marked as history, and a
/// dropped socket resumed by the page itself. The page is loaded through a <c>shout proxy</c> in front
/// of the web port, which is disabled (every connection reset, new ones refused) while a TCP member
/// talks, then enabled again: the page's own backoff brings it back and it resumes.
/// </summary>
public sealed class RoomPageResumeTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 30_000 };
    private static readonly LocatorAssertionsToHaveCountOptions SlowCount = new() { Timeout = 30_000 };

    [Fact]
    public async Task The_page_shows_the_rooms_history_marked_as_history_then_live_lines_unmarked()
    {
        await using var server = await StartAsync();
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await bob.SendAsync("said before");
        await bob.SendAsync("also before");
        await bob.ReadUntilAsync("ALSO BEFORE");

        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#room")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var history = page.Locator(".msg.history");
        await Expect(history).ToHaveCountAsync(2, SlowCount);
        await Expect(history.Nth(0)).ToHaveTextAsync("bobSAID BEFORE", Slow);
        await Expect(history.Nth(1)).ToHaveTextAsync("bobALSO BEFORE", Slow);

        await bob.SendAsync("live now");
        var live = page.Locator(".msg.member:not(.history)");
        await Expect(live).ToHaveCountAsync(1, SlowCount);
        await Expect(live).ToHaveTextAsync("bobLIVE NOW", Slow);

        // Nothing of the protocol shows raw: no numbered line, no position line.
        Assert.DoesNotContain(await page.Locator(".msg").AllTextContentsAsync(), t => t.Contains("* [", StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_dropped_page_resumes_by_itself_with_each_missed_line_once_in_order_and_says_how_many_were_lost()
    {
        // Two lines of history: the first drop misses two (all there), the second four (two lost).
        await using var server = await StartAsync(o => o.Rooms.History = 2);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("page", $"127.0.0.1:{server.Web().Port}");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        var page = await OpenAsync(port);
        await page.FillAsync("#nick", "page");
        await page.PressAsync("#nick", "Enter");
        await bob.ReadUntilAsync(l => l.EndsWith(" is now page", StringComparison.Ordinal));
        await bob.SendAsync("before the drop");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("bobBEFORE THE DROP", Slow);

        await DropAsync(proxy, page, bob);
        await bob.SendAsync("missed one");
        await bob.SendAsync("missed two");
        await bob.ReadUntilAsync("MISSED TWO");
        await EnableAsync(proxy);

        await Expect(page.Locator(".msg.resumed")).ToHaveTextAsync("resumed in lobby, 2 missed", Slow);
        await bob.ReadUntilAsync(l => l.EndsWith(" is now page", StringComparison.Ordinal));
        await page.FillAsync("#input", "back");
        await page.PressAsync("#input", "Enter");
        Assert.Equal("page: BACK", await bob.ReadUntilAsync(l => l.StartsWith("page:", StringComparison.Ordinal)));
        await bob.SendAsync("after");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("bobAFTER", Slow);

        // Its position counted its own answer and bob's line: the second resume starts right after "after".
        await DropAsync(proxy, page, bob);
        foreach (var line in new[] { "gone one", "gone two", "kept one", "kept two" })
        {
            await bob.SendAsync(line);
        }

        await bob.ReadUntilAsync("KEPT TWO");
        await EnableAsync(proxy);
        await Expect(page.Locator(".msg.resumed")).ToHaveCountAsync(2, SlowCount);
        await Expect(page.Locator(".msg.resumed").Last).ToHaveTextAsync("resumed in lobby, 2 missed", Slow);
        await Expect(page.Locator(".msg.notice").Filter(new() { HasText = "older than its history" }))
            .ToHaveTextAsync("2 lines of lobby are older than its history", Slow);

        // Each line once, in order; the missed ones marked; the new sockets' greetings and default history not shown.
        Assert.Equal(
            ["bobBEFORE THE DROP", "bobMISSED ONE", "bobMISSED TWO", "bobAFTER", "bobKEPT ONE", "bobKEPT TWO"],
            await page.Locator(".msg.member").AllTextContentsAsync());
        Assert.Equal(["bobMISSED ONE", "bobMISSED TWO", "bobKEPT ONE", "bobKEPT TWO"], await page.Locator(".msg.missed").AllTextContentsAsync());
        Assert.Equal(0, await page.Locator(".msg.history").CountAsync());
        Assert.Single(await page.Locator(".msg").AllTextContentsAsync(), t => t.StartsWith("you are guest", StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_resume_another_server_refuses_becomes_one_note_and_the_room_joined_again_with_its_history()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("page", $"127.0.0.1:{first.Web().Port}");
        await using var bob = await RoomClient.JoinAsync(first.Endpoint, "bob");
        await using var carol = await RoomClient.JoinAsync(second.Endpoint, "carol");
        await carol.SendAsync("on the second");
        await carol.ReadUntilAsync("ON THE SECOND");
        var page = await OpenAsync(port);
        await bob.SendAsync("on the first");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("bobON THE FIRST", Slow);

        // The page comes back to another server (a restart, another instance): its epoch means nothing there.
        await DropAsync(proxy, page, bob);
        await MoveAsync(proxy, second);

        var refused = page.Locator(".msg.notice").Filter(new() { HasText = "could not resume" });
        await Expect(refused).ToHaveCountAsync(1, SlowCount);
        await Expect(refused).ToContainTextAsync("joining lobby again", new() { Timeout = 30_000 });
        await Expect(page.Locator(".msg.history")).ToHaveTextAsync("carolON THE SECOND", Slow);
        await carol.SendAsync("welcome");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("carolWELCOME", Slow);
        Assert.Equal(0, await page.Locator(".msg.resumed").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task With_shared_offsets_a_page_moved_to_another_instance_resumes_there_with_each_missed_line_once()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        void Shared(ShoutServerOptions o)
        {
            o.Rooms.Bus.Address = Shout.Rooms.BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.ExactlyOnce = true;
            o.Rooms.Bus.SharedOffsets = true;
        }

        await using var first = await StartAsync(Shared);
        await using var second = await StartAsync(Shared);
        foreach (var server in new[] { first, second })
        {
            await RoomSharedOffsetsTests.Bus(server).Ready.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("page", $"127.0.0.1:{first.Web().Port}");
        await using var bob = await RoomClient.JoinAsync(second.Endpoint, "bob");
        var page = await OpenAsync(port);
        await bob.SendAsync("before the drop");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("bobBEFORE THE DROP", Slow);

        // Cut off from the first instance; its address now leads to the second, as a balancer's would.
        await DropAsync(proxy, page, bob);
        await bob.SendAsync("missed one");
        await bob.SendAsync("missed two");
        await bob.ReadUntilAsync("MISSED TWO");
        await MoveAsync(proxy, second);

        await Expect(page.Locator(".msg.resumed")).ToHaveTextAsync("resumed in lobby, 2 missed", Slow);
        await bob.SendAsync("after");
        await Expect(page.Locator(".msg.member").Last).ToHaveTextAsync("bobAFTER", Slow);
        Assert.Equal(["bobBEFORE THE DROP", "bobMISSED ONE", "bobMISSED TWO", "bobAFTER"], await page.Locator(".msg.member").AllTextContentsAsync());
        Assert.Equal(["bobMISSED ONE", "bobMISSED TWO"], await page.Locator(".msg.missed").AllTextContentsAsync());
        Assert.Equal(0, await page.Locator(".msg.notice").Filter(new() { HasText = "could not resume" }).CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_page_counts_its_position_as_the_protocol_says()
    {
        await using var server = await StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());

        // roomposition.js alone: others' lines and its own answers count; notices, command answers and
        // numbered lines do not; an own answer that looks like a notice or a command answer still counts,
        // also when its uppercase is not the one the page expected ("OK STRASSE" for "OK STRAßE").
        var offsets = await page.EvaluateAsync<int[]>("""
            () => {
              const p = new RoomPosition(), seen = [];
              const take = line => { p.observe(line); seen.push(p.offset); };
              take("* you are guest1 in lobby (/nick NAME, /join ROOM, /who, quit)");
              take("* [7] bob: OLD");
              take("* [at lobby 8 k3q7mzd2]");
              take("bob: HELLO");
              take("* carol joined lobby");
              p.sent("/nick alice"); take("OK nick alice");
              p.sent("* hi"); take("* HI");
              p.sent("ok straße"); take("OK STRASSE");
              p.sent("/who"); take("WHO lobby alice bob carol");
              p.sent("bob: me"); take("BOB: ME");
              take("carol: BYE");
              return seen;
            }
            """);
        Assert.Equal([0, 0, 8, 9, 9, 9, 10, 11, 11, 12, 13], offsets);
        Assert.Equal("/resume lobby 13 k3q7mzd2", await page.EvaluateAsync<string>("""
            () => { const p = new RoomPosition(); p.observe("* [at lobby 12 k3q7mzd2]"); p.observe("bob: X"); return p.resumeLine; }
            """));
        await page.Context.CloseAsync();
    }

    private static Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null) =>
        TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
            configure?.Invoke(o);
        });

    /// <summary>The page in a new browser page, through the proxy's <paramref name="port"/>, once its room view is up.</summary>
    private async Task<IPage> OpenAsync(int port)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{port}/");
        await Expect(page.Locator("#room")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        return page;
    }

    /// <summary>The proxy leads to <paramref name="server"/>'s web port from now on, and is enabled again.</summary>
    private static async Task MoveAsync(ProxyFixture proxy, TestServer server)
    {
        using var moved = await proxy.PostAsync("/proxies/page", $$"""{"upstream":"127.0.0.1:{{server.Web().Port}}","enabled":true}""");
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
    }

    /// <summary>Cuts the page off (its socket reset, new ones refused) and waits until its room and the page have seen it.</summary>
    private static async Task DropAsync(ProxyFixture proxy, IPage page, RoomClient member)
    {
        using (var disabled = await proxy.PostAsync("/proxies/page", """{"enabled":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        await member.ReadUntilAsync(l => l.EndsWith(" left lobby", StringComparison.Ordinal));
        await Expect(page.Locator("#status")).Not.ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });
    }

    private static async Task EnableAsync(ProxyFixture proxy)
    {
        using var enabled = await proxy.PostAsync("/proxies/page", """{"enabled":true}""");
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
    }
}
