using System.Globalization;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Rooms;

/// <summary><c>/resume ROOM OFFSET EPOCH</c>: exactly the missed lines, or how many are lost; anything else one ERR and no change.</summary>
public sealed class RoomResumeTests
{
    [Fact]
    public async Task A_member_that_reconnects_and_resumes_gets_exactly_the_lines_it_missed_in_order()
    {
        await using var server = await RoomHistoryTests.StartAsync();
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        var bob = await RoomClient.ConnectAsync(server.Endpoint);
        await bob.ReadLineAsync();
        var (room, offset, epoch) = ParsePosition(await bob.ReadLineAsync());
        for (var i = 0; i < 3; i++)
        {
            await alice.SendAsync($"heard {i}");
        }

        // bob counts every room line it hears from its position on.
        foreach (var i in Enumerable.Range(0, 3))
        {
            Assert.Equal($"alice: HEARD {i}", await bob.ReadUntilAsync(l => !l.StartsWith('*')));
            offset++;
        }

        await bob.DisposeAsync();
        await alice.ReadUntilAsync(l => l.EndsWith(" left lobby", StringComparison.Ordinal));
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync($"missed {i}");
        }

        await alice.ReadUntilAsync("MISSED 4");

        // Back on a new connection: it is in the lobby and heard its history; it resumes where it was.
        await using var again = await RoomClient.ConnectAsync(server.Endpoint);
        await again.SendAsync($"/resume {room} {offset} {epoch}");
        await again.ReadUntilAsync($"OK resume {room}");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal($"* [{offset + 1 + i}] alice: MISSED {i}", await again.ReadLineAsync());
        }

        Assert.Matches(RoomHistoryTests.Position(room, offset + 5), await again.ReadLineAsync());
        await alice.SendAsync("live");
        Assert.Equal("alice: LIVE", await again.ReadUntilAsync(l => !l.StartsWith('*')));
    }

    [Fact]
    public async Task Lines_older_than_the_history_are_reported_as_one_lost_line_then_the_rest_follow()
    {
        await using var server = await RoomHistoryTests.StartAsync(o => o.Rooms.History = 3);
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await using var watcher = await RoomClient.ConnectAsync(server.Endpoint);
        await watcher.ReadLineAsync();
        var (room, offset, epoch) = ParsePosition(await watcher.ReadLineAsync());
        for (var i = 0; i < 10; i++)
        {
            await alice.SendAsync($"line {i}");
        }

        await alice.ReadUntilAsync("LINE 9");

        await using var bob = await RoomClient.ConnectAsync(server.Endpoint);
        await bob.SendAsync($"/resume {room} {offset} {epoch}");
        await bob.ReadUntilAsync($"OK resume {room}");
        Assert.Equal($"* [lost 7] lines of {room} are older than its history", await bob.ReadLineAsync());
        for (var i = 7; i < 10; i++)
        {
            Assert.Equal($"* [{offset + 1 + i}] alice: LINE {i}", await bob.ReadLineAsync());
        }

        Assert.Matches(RoomHistoryTests.Position(room, offset + 10), await bob.ReadLineAsync());
    }

    [Fact]
    public async Task Resume_into_another_room_moves_the_member_there_with_notices()
    {
        await using var server = await RoomHistoryTests.StartAsync();
        await using var alice = await RoomClient.JoinAsync(server.Endpoint, "alice");
        await alice.SendAsync("/join dev");
        await alice.ReadUntilAsync("OK room dev");
        var (room, offset, epoch) = ParsePosition(await alice.ReadLineAsync());
        await alice.SendAsync("one");
        await alice.ReadLineAsync();

        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await bob.SendAsync($"/resume {room} {offset} {epoch}");
        await bob.ReadUntilAsync("OK resume dev");
        Assert.Equal($"* [{offset + 1}] alice: ONE", await bob.ReadLineAsync());
        Assert.Matches(RoomHistoryTests.Position("dev", offset + 1), await bob.ReadLineAsync());
        Assert.Equal("* bob joined dev", await alice.ReadLineAsync());
        await bob.SendAsync("/who");
        Assert.Equal("WHO dev alice bob", await bob.ReadLineAsync());
    }

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    [InlineData("udp")]
    public async Task Hostile_resume_lines_get_one_err_line_each_and_change_nothing(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var alice = await MatrixRoomMember.JoinAsync(transport, server, "alice");
        await using var mallory = await MatrixRoomMember.JoinAsync(transport, server, "mallory");
        await alice.SendLineAsync("/join dev"u8.ToArray());
        var (_, _, devEpoch) = ParsePosition(await alice.ReadUntilAsync(l => l.StartsWith("* [at dev ", StringComparison.Ordinal)));
        await alice.SendLineAsync("/join lobby"u8.ToArray());
        var (_, last, epoch) = ParsePosition(await alice.ReadUntilAsync(l => l.StartsWith("* [at lobby ", StringComparison.Ordinal)));
        await mallory.ReadUntilAsync(l => l == "* alice joined lobby");

        string[] hostile =
        [
            $"/resume nowhere 0 {epoch}",                     // a room with no history here
            $"/resume lobby {last + 1} {epoch}",              // beyond the last line
            $"/resume lobby 99999999999999999999999 {epoch}", // absurd offset
            $"/resume lobby -1 {epoch}",
            $"/resume lobby 0 {Other(epoch)}",                // wrong epoch
            $"/resume lobby 0 {devEpoch}",                    // another room's epoch
            $"/resume dev 0 {epoch}",
            $"/resume lobby 0 {epoch[..7]}\u001b",            // a control character
            $"/resume lobby 0 {epoch} more",
            $"/resume lobby  0 {epoch}",
            $"/resume ../x 0 {epoch}",
            "/resume lobby 0",
            "/resume",
        ];
        foreach (var line in hostile)
        {
            await mallory.SendLineAsync(Encoding.UTF8.GetBytes(line));
            var answer = await mallory.ReadUntilAsync(l => !l.StartsWith('*'));
            Assert.StartsWith("ERR ", answer, StringComparison.Ordinal);
            Assert.DoesNotContain(answer, c => char.IsControl(c));
        }

        // Nothing changed: mallory is still in the lobby, nobody was told anything, the next line alice hears is mallory's.
        await mallory.SendLineAsync("/who"u8.ToArray());
        Assert.Equal("WHO lobby alice mallory", await mallory.ReadUntilAsync(l => !l.StartsWith('*')));
        await mallory.SendLineAsync("still here"u8.ToArray());
        Assert.Equal("mallory: STILL HERE", await alice.ReadUntilAsync(l => !l.StartsWith("OK ", StringComparison.Ordinal)));
        Assert.Equal(hostile.Length, mallory.Seen.Count(l => l.StartsWith("ERR ", StringComparison.Ordinal)));
    }

    /// <summary>An epoch of the right shape that is not <paramref name="epoch"/>.</summary>
    private static string Other(string epoch) => epoch[0] == 'a' ? "b" + epoch[1..] : "a" + epoch[1..];

    internal static (string Room, long Offset, string Epoch) ParsePosition(string line)
    {
        var match = System.Text.RegularExpressions.Regex.Match(line, @"^\* \[at (\S+) (\d+) ([a-z2-9]{8})\]$");
        Assert.True(match.Success, $"not a position line: {line}");
        return (match.Groups[1].Value, long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), match.Groups[3].Value);
    }
}
