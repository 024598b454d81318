using System.Globalization;
using System.Security.Cryptography;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using Shout.Server;

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

    public static TheoryData<string> Transports => ["tcp", "tls", "unix", "ws", "udp"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Hostile_resume_lines_get_one_err_line_each_and_change_nothing(string transport)
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"shout-resume-{Guid.NewGuid():N}.sock");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("tls://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("unix://" + socketPath));
            o.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0"));
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        await using var alice = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "alice");
        await alice.SendAsync("/join dev");
        await alice.ReadUntilAsync("OK room dev");
        var (_, _, devEpoch) = ParsePosition(await alice.ReadLineAsync());
        await alice.SendAsync("/join lobby");
        await alice.ReadUntilAsync("OK room lobby");
        var (_, last, epoch) = ParsePosition(await alice.ReadLineAsync());

        await using var member = await ConnectAsync(transport, server);
        string[] hostile =
        [
            $"/resume nowhere 0 {epoch}",                    // unknown room
            $"/resume lobby {last + 1} {epoch}",             // beyond the last line
            $"/resume lobby 99999999999999999999999 {epoch}", // absurd offset
            $"/resume lobby -1 {epoch}",
            $"/resume lobby 0 {Other(epoch)}",               // wrong epoch
            $"/resume lobby 0 {devEpoch}",                   // another room's epoch
            $"/resume lobby 0 {epoch[..7]}\u001b",           // a control character
            "/resume lobby 0",
            $"/resume lobby  0 {epoch}",
            $"/resume ../x 0 {epoch}",
            "/resume",
        ];
        foreach (var line in hostile)
        {
            await member.SendAsync(line);
            Assert.StartsWith("ERR ", await member.ReadUntilAsync(l => !l.StartsWith('*')), StringComparison.Ordinal);
        }

        // Still where it was, nothing told to anyone: the next thing alice hears is the member's line.
        await member.SendAsync("/who");
        Assert.Equal("WHO lobby alice " + member.Nick, await member.ReadUntilAsync(l => !l.StartsWith('*')));
        await member.SendAsync("still here");
        Assert.Equal($"{member.Nick}: STILL HERE", await alice.ReadUntilAsync(l => !l.Contains(" joined ", StringComparison.Ordinal)
            && !l.Contains(" is now ", StringComparison.Ordinal)));
    }

    private static async Task<ITestMember> ConnectAsync(string transport, TestServer server)
    {
        var pin = new ShoutClientOptions
        {
            Pin = CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256))),
        };
        return transport switch
        {
            "tcp" => await TestMembers.NamedAsync(new TestMembers.Stream("tcp", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tcp)))),
            "tls" => await TestMembers.NamedAsync(new TestMembers.Stream("tls", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tls), pin))),
            "unix" => await TestMembers.NamedAsync(new TestMembers.Stream("unix", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Unix)))),
            "ws" => await TestMembers.NamedAsync(await TestMembers.WebSocketMember.ConnectAsync("ws", server.WebSocketUri())),
            _ => await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("udp", server.EndpointOf(ShoutTransport.Udp))),
        };
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
