using Microsoft.Extensions.DependencyInjection;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Issue 22 item 5: an instance says whether its bus links it to the others: a warning at start when
/// NATS is not there (and it still links once NATS comes), the loss and the return in the log, and
/// the state on the page's live frame.
/// </summary>
public sealed class RoomBusCheckTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Absent_at_start_warns_once_then_nats_started_later_links_the_instances_and_loss_and_return_are_logged_and_shown()
    {
        // A NATS that is down: its port is known, nothing listens on it.
        await using var nats = await NatsServer.StartAsync();
        await nats.KillAsync();
        var logs = new LogCapture();
        await using var a = await StartAsync(nats, logs);
        await Eventually.TrueAsync(() => Has(logs, "not reachable within 5 s: instances are NOT linked until it is; retrying in the background"),
            Patience, () => string.Join('\n', logs.Entries));
        var warning = logs.Entries.Single(e => e.Message.Contains("not reachable", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains($"nats://127.0.0.1:{nats.Port}", warning.Message, StringComparison.Ordinal);
        await a.WaitForLiveFrameAsync(f => f.Contains("\"bus\":{\"state\":\"connecting\"", StringComparison.Ordinal), Patience);

        // NATS comes: the instance connects by itself, and a second instance hears its members.
        await nats.StartAgainAsync();
        await Bus(a).Ready.WaitAsync(Patience);
        await Eventually.TrueAsync(() => Has(logs, "Room bus connected to"), Patience, () => string.Join('\n', logs.Entries));
        await a.WaitForLiveFrameAsync(f => f.Contains($"\"bus\":{{\"state\":\"connected\",\"server\":\"nats://127.0.0.1:{nats.Port}", StringComparison.Ordinal), Patience);
        await using var b = await StartAsync(nats, new LogCapture());
        await Bus(b).Ready.WaitAsync(Patience);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await alice.SendAsync("linked");
        await bob.ReadUntilAsync("alice: LINKED", Patience);

        // Lost: a warning and the page says since when; back: connected again.
        await nats.KillAsync();
        await Eventually.TrueAsync(() => Has(logs, "lost: members here still hear each other; reconnecting"), Patience, () => string.Join('\n', logs.Entries));
        await a.WaitForLiveFrameAsync(f => f.Contains("\"bus\":{\"state\":\"lost\"", StringComparison.Ordinal), Patience);
        await nats.StartAgainAsync();
        await Eventually.TrueAsync(() => logs.Entries.Count(e => e.Message.Contains("Room bus connected to", StringComparison.Ordinal)) >= 2,
            Patience, () => string.Join('\n', logs.Entries));
        await a.WaitForLiveFrameAsync(f => f.Contains("\"bus\":{\"state\":\"connected\"", StringComparison.Ordinal), Patience);
    }

    [Fact]
    public async Task Present_at_start_connects_without_a_warning_and_the_page_says_connected()
    {
        await using var nats = await NatsServer.StartAsync();
        var logs = new LogCapture();
        await using var a = await StartAsync(nats, logs);
        await Bus(a).Ready.WaitAsync(Patience);
        await a.WaitForLiveFrameAsync(f => f.Contains("\"bus\":{\"state\":\"connected\"", StringComparison.Ordinal), Patience);

        // Past the start check: still no warning.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("not reachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_bus_the_page_says_none_and_outside_room_mode_it_says_nothing()
    {
        await using var room = await WebServer.StartServerAsync(o => o.Mode = ShoutMode.Room);
        await room.WaitForLiveFrameAsync(f => f.Contains("\"bus\":{\"state\":\"none\"", StringComparison.Ordinal), Patience);
        await using var line = await WebServer.StartServerAsync(o => o.Mode = ShoutMode.Line);
        var frame = await line.WaitForLiveFrameAsync(_ => true, Patience);
        Assert.DoesNotContain("\"bus\":{", frame, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bus_without_room_mode_is_refused_at_start_in_one_line()
    {
        await using var serve = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--web", "none", "--bus", "nats://127.0.0.1:4999");
        Assert.Equal(2, await serve.WaitForExitAsync(Patience));
        Assert.Contains("--bus needs --mode room (only rooms are linked across instances)", serve.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", serve.Stderr, StringComparison.Ordinal);
    }

    private static bool Has(LogCapture logs, string text) => logs.Entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal));

    private static NatsRoomBus Bus(TestServer server) => server.Server.Services.GetRequiredService<NatsRoomBus>();

    private static Task<TestServer> StartAsync(NatsServer nats, LogCapture logs) =>
        TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Web.Address = new Uri("http://127.0.0.1:0");
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
        }, logs: logs);
}
