using Microsoft.Playwright;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>The page's room view in Debian's Chromium, in the same room as a TCP member.</summary>
public sealed class RoomBrowserTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly LocatorAssertionsToContainTextOptions Slow = new() { Timeout = 30_000 };

    [Fact]
    public async Task The_page_shows_the_room_its_members_and_what_a_tcp_member_says_and_the_tcp_member_hears_the_page()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        await using var tcp = await RoomClient.JoinAsync(server.Endpoint, "tcp");
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#room")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("#room-current")).ToHaveTextAsync("lobby", new() { Timeout = 30_000 });

        await page.FillAsync("#nick", "page");
        await page.PressAsync("#nick", "Enter");
        await Expect(page.Locator("#members li.me")).ToHaveTextAsync("page", new() { Timeout = 30_000 });
        await Expect(page.Locator("#members")).ToContainTextAsync("tcp", Slow);
        Assert.Equal("* guest2 is now page", await tcp.ReadUntilAsync(l => l.Contains("is now", StringComparison.Ordinal)));

        await tcp.SendAsync("hello page");
        var said = page.Locator(".msg.member").Last;
        await Expect(said.Locator(".who")).ToHaveTextAsync("tcp", new() { Timeout = 30_000 });
        await Expect(said).ToContainTextAsync("HELLO PAGE", Slow);

        await page.FillAsync("#input", "hello tcp");
        await page.PressAsync("#input", "Enter");
        Assert.Equal("page: HELLO TCP", await tcp.ReadUntilAsync(l => l.StartsWith("page:", StringComparison.Ordinal)));
        await Expect(page.Locator(".msg.server").Last).ToContainTextAsync("HELLO TCP", Slow);

        await page.FillAsync("#room-name", "dev");
        await page.PressAsync("#room-name", "Enter");
        await Expect(page.Locator("#room-current")).ToHaveTextAsync("dev", new() { Timeout = 30_000 });
        Assert.Equal("* page left lobby", await tcp.ReadUntilAsync(l => l.StartsWith('*')));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_shout_chat_in_a_terminal_and_the_page_share_one_room()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("/nick term", "Enter");
        await terminal.WaitForScreenAsync(s => s.Contains("OK nick term", StringComparison.Ordinal));

        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#room")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.FillAsync("#nick", "page");
        await page.PressAsync("#nick", "Enter");
        await Expect(page.Locator("#members")).ToContainTextAsync("term", Slow);

        // The page speaks while the terminal user has half a line typed: it appears above the prompt.
        await terminal.KeysAsync("hal");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> hal");
        await page.FillAsync("#input", "from the page");
        await page.PressAsync("#input", "Enter");
        await terminal.WaitForScreenAsync(s => s.Contains("page: FROM THE PAGE", StringComparison.Ordinal) && TmuxSession.LastLine(s) == "> hal");

        await terminal.KeysAsync("lo page", "Enter");
        var said = page.Locator(".msg.member").Last;
        await Expect(said.Locator(".who")).ToHaveTextAsync("term", new() { Timeout = 30_000 });
        await Expect(said).ToContainTextAsync("HALLO PAGE", Slow);
        await page.Context.CloseAsync();
    }
}
