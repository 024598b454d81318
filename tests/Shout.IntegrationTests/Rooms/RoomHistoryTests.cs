using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Rooms;

/// <summary>A member who joins gets the room's last lines, marked, within the bounds in lines, bytes and age; then its position.</summary>
public sealed partial class RoomHistoryTests
{
    [Fact]
    public async Task A_member_who_joins_gets_the_last_lines_marked_as_history_then_its_position()
    {
        await using var server = await StartAsync(o => o.Rooms.History = 3);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync($"line {i}");
            Assert.Equal($"LINE {i}", await alice.ReadLineAsync());
        }

        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);
        Assert.StartsWith("* you are ", await bob.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("* [3] alice: LINE 2", await bob.ReadLineAsync());
        Assert.Equal("* [4] alice: LINE 3", await bob.ReadLineAsync());
        Assert.Equal("* [5] alice: LINE 4", await bob.ReadLineAsync());
        Assert.Matches(Position("lobby", 5), await bob.ReadLineAsync());

        // Live lines follow, unmarked; notices are not history.
        await alice.SendAsync("live");
        Assert.Equal("alice: LIVE", await bob.ReadLineAsync());
    }

    [Fact]
    public async Task Joining_the_room_a_member_is_in_gives_its_history_and_position_again_and_tells_no_one()
    {
        await using var server = await StartAsync(o => o.Rooms.History = 2);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await alice.ReadUntilAsync("* guest2 is now bob");
        for (var i = 0; i < 3; i++)
        {
            await bob.SendAsync($"line {i}");
            Assert.Equal($"LINE {i}", await bob.ReadLineAsync());
        }

        // What a client whose resume was refused does to get its room back.
        await alice.SendAsync("/join lobby");
        await alice.ReadUntilAsync("OK room lobby");
        Assert.Equal("* [2] bob: LINE 1", await alice.ReadLineAsync());
        Assert.Equal("* [3] bob: LINE 2", await alice.ReadLineAsync());
        Assert.Matches(Position("lobby", 3), await alice.ReadLineAsync());
        await alice.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await alice.ReadLineAsync());
        await bob.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await bob.ReadLineAsync());
    }

    [Fact]
    public async Task A_room_holds_no_more_bytes_of_history_than_its_bound()
    {
        // "alice: XXXXXXXXXX\n" is 18 bytes: 40 bytes hold two such lines, not three.
        await using var server = await StartAsync(o => o.Rooms.HistoryBytes = 40);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        for (var i = 0; i < 6; i++)
        {
            await alice.SendAsync(new string((char)('a' + i), 10));
            await alice.ReadLineAsync();
        }

        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);
        await bob.ReadLineAsync();
        Assert.Equal("* [5] alice: EEEEEEEEEE", await bob.ReadLineAsync());
        Assert.Equal("* [6] alice: FFFFFFFFFF", await bob.ReadLineAsync());
        Assert.Matches(Position("lobby", 6), await bob.ReadLineAsync());
    }

    [Fact]
    public async Task Lines_older_than_the_age_bound_are_not_given()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(o => o.Rooms.HistoryAge = TimeSpan.FromSeconds(10), clock);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await alice.SendAsync("old");
        await alice.ReadLineAsync();
        clock.Advance(TimeSpan.FromSeconds(11));
        await alice.SendAsync("new");
        await alice.ReadLineAsync();

        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);
        await bob.ReadLineAsync();
        Assert.Equal("* [2] alice: NEW", await bob.ReadLineAsync());
        Assert.Matches(Position("lobby", 2), await bob.ReadLineAsync());
    }

    [Fact]
    public async Task A_sender_counts_its_own_lines_where_the_history_numbers_them()
    {
        await using var server = await StartAsync();
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        for (var i = 0; i < 3; i++)
        {
            await alice.SendAsync($"a{i}");
            await bob.SendAsync($"b{i}");
        }

        // Each of them heard 6 room lines, its own answers among them; a newcomer stands at 6 too.
        Assert.Equal(6, await CountRoomLinesAsync(alice, "alice", "bob: B2", "A2"));
        Assert.Equal(6, await CountRoomLinesAsync(bob, "bob", "alice: A2", "B2"));
        await using var carol = await RoomClient.ConnectAsync(server.Endpoint);
        Assert.Matches(Position("lobby", 6), await carol.ReadUntilAsync(l => l.StartsWith("* [at ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_history_a_member_gets_no_position_and_resume_says_so()
    {
        await using var server = await StartAsync(o => o.Rooms.History = 0);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await alice.SendAsync("hi");
        await alice.ReadLineAsync();
        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);
        await bob.ReadLineAsync();
        await bob.SendAsync("/resume lobby 0 abcdefgh");
        // Alice's answer can reach her before her line reached the room, so bob, just in, may hear it first.
        Assert.Equal("ERR resume: this server keeps no history (--room-history 0)",
            await bob.ReadUntilAsync(l => !l.StartsWith("alice: ", StringComparison.Ordinal)));
    }

    internal static Regex Position(string room, long last) => new($@"^\* \[at {room} {last} [a-z2-9]{{8}}\]$");

    /// <summary>Room lines a member heard (its own answers, others' lines) since its position, until both of the last arrived.</summary>
    private static async Task<int> CountRoomLinesAsync(RoomClient member, string nick, string lastOther, string lastOwn)
    {
        var lines = 0;
        var (other, own) = (false, false);
        while (!(other && own))
        {
            var line = await member.ReadLineAsync();
            if (line.StartsWith('*') || line.StartsWith("OK ", StringComparison.Ordinal))
            {
                continue;
            }

            lines++;
            other |= line == lastOther;
            own |= line == lastOwn;
            Assert.DoesNotContain(nick + ": ", line, StringComparison.Ordinal);
        }

        return lines;
    }

    internal static Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null, TimeProvider? clock = null) =>
        TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            configure?.Invoke(o);
        }, clock: clock);
}
