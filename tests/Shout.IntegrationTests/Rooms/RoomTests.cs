using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>Room mode's protocol over TCP: who hears what, and the commands.</summary>
public sealed class RoomTests
{
    private static Task<TestServer> StartRoomServerAsync(Action<ShoutServerOptions>? configure = null) =>
        TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task The_sender_gets_its_line_back_as_in_line_mode_and_everyone_else_with_its_name()
    {
        await using var server = await StartRoomServerAsync();
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await using var carol = await RoomClient.JoinAsync(server.Endpoint, "carol");

        await alice.SendAsync("hello ȿ world");

        Assert.Equal("HELLO \u2C7E WORLD", await alice.ReadUntilAsync(l => !l.StartsWith('*')));
        Assert.Equal("alice: HELLO \u2C7E WORLD", await bob.ReadUntilAsync(l => !l.StartsWith('*')));
        Assert.Equal("alice: HELLO \u2C7E WORLD", await carol.ReadUntilAsync(l => !l.StartsWith('*')));
        Assert.Equal(3, server.Server.Services.GetRoomMetrics().Members);
    }

    [Fact]
    public async Task A_half_closed_sender_with_no_newline_still_gets_its_shout_like_shout_send()
    {
        await using var server = await StartRoomServerAsync();
        await using var listener = await RoomClient.JoinAsync(server.Endpoint, "listener");
        await using var sender = await RoomClient.ConnectAsync(server.Endpoint);

        await sender.SendAsync("first");

        // Heard before the next member joins: a line still being fanned out could reach it too.
        await listener.ReadUntilAsync(l => l.EndsWith(": FIRST", StringComparison.Ordinal));
        var bytes = Encoding.UTF8.GetBytes("hello");
        await using (var raw = await Shout.Client.ShoutConnection.ConnectAsync(server.Endpoint, TimeSpan.FromSeconds(10)))
        {
            await raw.Stream.WriteAsync(bytes);
            await raw.HalfCloseAsync();
            using var reader = new StreamReader(raw.Stream);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var all = await reader.ReadToEndAsync(timeout.Token);

            // Only its own answer: nobody spoke while it was there but the guest who joined before it.
            Assert.EndsWith("HELLO", all, StringComparison.Ordinal);
        }

        var heard = await listener.ReadUntilAsync(l => l.EndsWith(": HELLO", StringComparison.Ordinal));
        Assert.StartsWith("guest", heard, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nick_join_who_and_quit()
    {
        await using var server = await StartRoomServerAsync();
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);

        var guest = (await alice.ReadUntilAsync(l => l.EndsWith(" joined lobby", StringComparison.Ordinal)))[2..^" joined lobby".Length];
        Assert.Equal($"* you are {guest} in lobby (/nick NAME, /join ROOM, /who, quit)", await bob.ReadLineAsync());
        Assert.StartsWith("* [at lobby ", await bob.ReadLineAsync(), StringComparison.Ordinal);
        await bob.SendAsync("/nick alice");
        Assert.Equal("ERR nick alice is taken", await bob.ReadLineAsync());
        await bob.SendAsync("/nick no spaces");
        Assert.StartsWith("ERR usage: /nick NAME", await bob.ReadLineAsync(), StringComparison.Ordinal);
        await bob.SendAsync("/nick bob");
        Assert.Equal("OK nick bob", await bob.ReadLineAsync());
        Assert.Equal($"* {guest} is now bob", await alice.ReadLineAsync());

        await bob.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await bob.ReadLineAsync());
        await bob.SendAsync("/dance");
        Assert.StartsWith("ERR unknown command /dance", await bob.ReadLineAsync(), StringComparison.Ordinal);

        // Another room hears nothing of the lobby, and the lobby nothing of it.
        await bob.SendAsync("/join dev");
        Assert.Equal("OK room dev", await bob.ReadLineAsync());
        Assert.StartsWith("* [at dev 0 ", await bob.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("* bob left lobby", await alice.ReadLineAsync());
        await bob.SendAsync("in dev");
        Assert.Equal("IN DEV", await bob.ReadLineAsync());
        await alice.SendAsync("in lobby");
        Assert.Equal("IN LOBBY", await alice.ReadLineAsync());
        await bob.SendAsync("/who");
        Assert.Equal("WHO dev bob", await bob.ReadLineAsync());
        await alice.SendAsync("/join dev");
        Assert.Equal("OK room dev", await alice.ReadLineAsync());
        Assert.Equal("* [1] bob: IN DEV", await alice.ReadLineAsync());
        Assert.StartsWith("* [at dev 1 ", await alice.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("* alice joined dev", await bob.ReadLineAsync());
        Assert.Equal(1, server.Server.Services.GetRoomMetrics().Rooms);

        await alice.SendAsync("quit");
        Assert.Equal("QUIT", await alice.ReadLineAsync());
        Assert.Equal("", await alice.ReadToEndAsync());
        Assert.Equal("* alice left dev", await bob.ReadLineAsync());
        await bob.SendAsync("/who");
        Assert.Equal("WHO dev bob", await bob.ReadLineAsync());
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Quit) == 1, TimeSpan.FromSeconds(10), () => "no quit recorded");
    }

    [Fact]
    public async Task A_line_over_the_limit_is_refused_and_closes_only_that_member()
    {
        await using var server = await StartRoomServerAsync(o => o.MaxLineLength = 16);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");

        await bob.SendAsync(new string('x', 17));
        Assert.Equal("ERR line too long (max 16 bytes)", await bob.ReadUntilAsync(l => l.StartsWith("ERR", StringComparison.Ordinal)));
        Assert.Equal("* bob left lobby", await alice.ReadUntilAsync(l => l.Contains("left", StringComparison.Ordinal)));
        await alice.SendAsync("still here");
        Assert.Equal("STILL HERE", await alice.ReadLineAsync());
    }

    [Fact]
    public async Task Every_line_of_every_sender_arrives_once_and_in_order()
    {
        const int Lines = 500;

        // Every member's queue holds every line of the run (3 x 500 and the notices), so no line can be
        // dropped however late the scheduler runs a member's writer: this test is about once and in
        // order; the slow-member rule has its own tests.
        await using var server = await StartRoomServerAsync(o => o.Rooms.QueueLength = 4096);
        var members = new List<RoomClient>();
        for (var i = 0; i < 5; i++)
        {
            members.Add(await RoomClient.JoinAsync(server.Endpoint, "m" + i));
        }

        try
        {
            // Members read while the senders send.
            var sends = members.Take(3).Select(async (m, i) =>
            {
                for (var n = 0; n < Lines; n++)
                {
                    await m.SendAsync($"s{i} {n}");
                }
            }).ToList();
            var reads = members.Select(async (m, self) =>
            {
                var next = new int[3];
                while (next.Where((_, s) => s != self).Any(n => n < Lines) || (self < 3 && next[self] < Lines))
                {
                    var line = await m.ReadLineAsync();
                    if (line.StartsWith('*'))
                    {
                        continue;
                    }

                    // Own lines come back bare, others' with the name in front.
                    var text = line.Contains(':', StringComparison.Ordinal) ? line[(line.IndexOf(':', StringComparison.Ordinal) + 2)..] : line;
                    var parts = text.Split(' ');
                    var sender = int.Parse(parts[0][1..], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(sender == self, !line.Contains(':', StringComparison.Ordinal));
                    Assert.Equal(next[sender], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                    next[sender]++;
                }
            }).ToList();
            await Task.WhenAll([.. sends, .. reads]);
        }
        finally
        {
            foreach (var m in members)
            {
                await m.DisposeAsync();
            }
        }
    }
}
