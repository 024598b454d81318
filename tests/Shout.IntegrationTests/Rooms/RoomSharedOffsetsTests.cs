using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms;
using Shout.Rooms.Bus;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Shared offsets (<c>--bus-shared-offsets</c>, nats-server -js): every instance delivers a room's
/// lines in the room stream's order, its own members' too, so a position means the same on every
/// instance and a member resumes on any of them with exactly the lines it missed.
/// </summary>
public sealed partial class RoomSharedOffsetsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Both_instances_deliver_the_rooms_lines_in_one_order_their_own_members_lines_included()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await using var onA = await RoomClient.JoinAsync(a.Endpoint, "carol");
        await using var onB = await RoomClient.JoinAsync(b.Endpoint, "dave");

        // Both talk at once; each is answered every line, in its order.
        await Task.WhenAll(TalkAsync(alice, "a", 100), TalkAsync(bob, "b", 100));
        var heardOnA = await ReadSaidAsync(onA, 200);
        var heardOnB = await ReadSaidAsync(onB, 200);
        Assert.Equal(heardOnA, heardOnB);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"alice: A {i}"), heardOnA.Where(l => l.StartsWith("alice:", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"bob: B {i}"), heardOnA.Where(l => l.StartsWith("bob:", StringComparison.Ordinal)));
        var answers = new List<string>();
        while (answers.Count < 100)
        {
            var line = await alice.ReadUntilAsync(l => !l.StartsWith('*'), Patience);
            if (!line.StartsWith("bob: ", StringComparison.Ordinal))
            {
                answers.Add(line);
            }
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"A {i}"), answers);

        // A rename between lines (its own notice, delivered when made and skipped when it comes back) leaves no gap in its numbers.
        await alice.SendAsync("/nick alicia");
        await alice.ReadUntilAsync("OK nick alicia", Patience);
        await alice.SendAsync("after the rename");
        Assert.Equal("alicia: AFTER THE RENAME", await onB.ReadUntilAsync(l => l.StartsWith("alicia:", StringComparison.Ordinal), Patience));
        Assert.Equal("alicia: AFTER THE RENAME", await onA.ReadUntilAsync(l => l.StartsWith("alicia:", StringComparison.Ordinal), Patience));
        Assert.Equal(0, a.Server.Services.GetRoomMetrics().LostInTransit);
        Assert.Equal(0, b.Server.Services.GetRoomMetrics().LostInTransit);
    }

    [Fact]
    public async Task A_member_resumes_on_the_other_instance_with_exactly_the_lines_it_missed()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await alice.SendAsync("before");
        await bob.ReadUntilAsync("alice: BEFORE");

        // carol on a: its history and position, then every room line counts one.
        var carol = await RoomClient.ConnectAsync(a.Endpoint);
        Assert.StartsWith("* you are ", await carol.ReadLineAsync(), StringComparison.Ordinal);
        var (room, offset, epoch) = await ReadPositionAsync(carol);
        // Lines of different senders are in the stream's order; one at a time, that order is known here.
        await alice.SendAsync("heard 1");
        Assert.Equal("alice: HEARD 1", await carol.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        await bob.SendAsync("heard 2");
        Assert.Equal("bob: HEARD 2", await carol.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        offset += 2;

        await carol.DisposeAsync();
        await alice.SendAsync("missed 1");
        await bob.ReadUntilAsync("alice: MISSED 1", Patience);
        await bob.SendAsync("missed 2");
        await alice.ReadUntilAsync("bob: MISSED 2", Patience);
        await alice.SendAsync("missed 3");
        await bob.ReadUntilAsync("alice: MISSED 3", Patience);

        // Back on the other instance, where it never was.
        await using var again = await RoomClient.ConnectAsync(b.Endpoint);
        await again.SendAsync($"/resume {room} {offset} {epoch}");
        await again.ReadUntilAsync($"OK resume {room}", Patience);
        Assert.Equal($"* [{offset + 1}] alice: MISSED 1", await again.ReadLineAsync());
        Assert.Equal($"* [{offset + 2}] bob: MISSED 2", await again.ReadLineAsync());
        Assert.Equal($"* [{offset + 3}] alice: MISSED 3", await again.ReadLineAsync());
        Assert.Equal($"* [at {room} {offset + 3} {epoch}]", await again.ReadLineAsync());
        await alice.SendAsync("live");
        Assert.Equal("alice: LIVE", await again.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
    }

    [Fact]
    public async Task Lines_the_other_instance_no_longer_holds_are_counted_in_the_stream_and_reported_lost()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats, o => o.Rooms.History = 3);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        var carol = await RoomClient.ConnectAsync(a.Endpoint);
        await carol.ReadLineAsync();
        var (room, offset, epoch) = await ReadPositionAsync(carol);
        for (var i = 0; i < 2; i++)
        {
            await alice.SendAsync($"heard {i}");
            Assert.Equal($"alice: HEARD {i}", await carol.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
            offset++;
        }

        await carol.DisposeAsync();
        for (var i = 0; i < 7; i++)
        {
            await alice.SendAsync($"missed {i}");
        }

        await alice.ReadUntilAsync("MISSED 6", Patience);
        await Eventually.TrueAsync(() => Bus(b).LastSeq >= Bus(a).LastSeq, Patience, () => "b never took every line");

        // b holds the last 3 of the 9 lines after carol's anchor: the 2 she had and the first 4 she
        // missed are counted in the stream; 4 are lost, the last 3 given.
        await using var again = await RoomClient.ConnectAsync(b.Endpoint);
        await again.SendAsync($"/resume {room} {offset} {epoch}");
        await again.ReadUntilAsync($"OK resume {room}", Patience);
        Assert.Equal($"* [lost 4] lines of {room} are older than its history", await again.ReadLineAsync());
        for (var i = 4; i < 7; i++)
        {
            Assert.Equal($"* [{offset + 1 + i}] alice: MISSED {i}", await again.ReadLineAsync());
        }

        Assert.Equal($"* [at {room} {offset + 7} {epoch}]", await again.ReadLineAsync());
    }

    [Fact]
    public async Task A_resume_line_the_stream_cannot_place_gets_one_err_and_changes_nothing()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await alice.SendAsync("one");
        await alice.ReadUntilAsync("ONE");
        await using var bob = await RoomClient.ConnectAsync(a.Endpoint);
        await bob.ReadLineAsync();
        var (room, offset, epoch) = await ReadPositionAsync(bob);
        var streamId = epoch[..2];
        var other = (streamId == "zz" ? "yy" : "zz") + epoch[2..];
        var future = streamId + "zzzzzz";
        foreach (var line in new[] { $"/resume {room} {offset} {other}", $"/resume {room} {offset + 1000} {epoch}", $"/resume {room} 0 {future}" })
        {
            await bob.SendAsync(line);
            Assert.StartsWith("ERR resume: ", await bob.ReadUntilAsync(l => !l.StartsWith('*'), Patience), StringComparison.Ordinal);
        }

        // Still in the lobby, still counting from where it was.
        await alice.SendAsync("two");
        Assert.Equal("alice: TWO", await bob.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        await bob.SendAsync($"/resume {room} {offset + 1} {epoch}");
        await bob.ReadUntilAsync($"OK resume {room}", Patience);
        Assert.Equal($"* [at {room} {offset + 1} {epoch}]", await bob.ReadLineAsync());
    }

    [Fact]
    public async Task Tcp_tls_unix_websocket_and_udp_members_are_answered_and_heard_through_the_stream()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        var socketPath = Path.Combine(Path.GetTempPath(), $"shout-room-{Guid.NewGuid():N}.sock");
        await using var a = await StartInstanceAsync(nats, o => TestMembers.ListenOnEveryTransport(o, socketPath));
        await using var b = await StartInstanceAsync(nats);
        var members = await TestMembers.OnEveryTransportAsync(a);
        members.Add(await TestMembers.NamedAsync(new TestMembers.Stream("other", await RoomClient.ConnectAsync(b.Endpoint))));
        try
        {
            // One at a time, so the stream's order is the order said.
            await TestMembers.EachSaysHelloAndAllHearAsync(members);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task While_the_bus_is_down_lines_wait_and_the_log_says_so_then_every_one_is_delivered_once()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        var logs = new LogCapture();
        await using var a = await StartInstanceAsync(nats, logs: logs);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(a.Endpoint, "bob");
        await nats.KillAsync();
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.Contains("lost: with shared offsets room lines wait until it is back", StringComparison.Ordinal)),
            Patience, () => string.Join('\n', logs.Entries));
        await alice.SendAsync("while down");

        // Nothing is heard on the same instance meanwhile; once NATS is back, the line and its answer come, once.
        Assert.Null(await bob.TryReadLineAsync(TimeSpan.FromSeconds(1)));
        await nats.StartAgainAsync();
        Assert.Equal("alice: WHILE DOWN", await bob.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        Assert.Equal("WHILE DOWN", await alice.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        await alice.SendAsync("after");
        Assert.Equal("alice: AFTER", await bob.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
    }

    [Fact]
    public async Task A_member_that_says_lines_and_half_closes_is_answered_every_line_before_the_close()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var bob = await RoomClient.JoinAsync(a.Endpoint, "bob");
        await using var alice = await RoomClient.ConnectAsync(a.Endpoint);
        await alice.SendAsync("one");
        await alice.SendAsync("two");
        await alice.HalfCloseAsync();
        var rest = (await alice.ReadToEndAsync(Patience)).Split('\n');
        Assert.Equal(["ONE", "TWO"], rest.Where(l => l is "ONE" or "TWO"));
        Assert.EndsWith(": TWO", await bob.ReadUntilAsync(l => l.EndsWith(": TWO", StringComparison.Ordinal), Patience), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_websocket_member_that_says_a_line_and_closes_is_answered_before_the_close()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats, o => o.Web.Address = new Uri("http://127.0.0.1:0"));
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(Web.WebServer.WebSocketUri(a), timeout.Token);
        await socket.SendAsync("one"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, timeout.Token);
        await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        var heard = new List<string>();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                break;
            }

            heard.Add(System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count).TrimEnd('\n'));
        }

        Assert.Contains("ONE", heard);
    }

    [Fact]
    public async Task Members_get_a_fresh_position_now_and_then_so_one_connected_longer_than_the_stream_keeps_still_resumes()
    {
        // The stream keeps 4 s, so positions are renewed every second.
        await using var nats = await NatsServer.StartAsync(["-js"]);
        void Short(ShoutServerOptions o) => o.Rooms.HistoryAge = TimeSpan.FromSeconds(4);
        await using var a = await StartInstanceAsync(nats, Short);
        await using var b = await StartInstanceAsync(nats, Short);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        var carol = await RoomClient.ConnectAsync(a.Endpoint);
        await carol.ReadLineAsync();
        var joined = await ReadPositionAsync(carol);
        var (room, offset, epoch) = joined;

        // Talking for 6 s: carol takes each fresh position as chat and the page do, and counts on from it.
        var renewed = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < TimeSpan.FromSeconds(6); i++)
        {
            await alice.SendAsync($"line {i}");
            while (true)
            {
                var line = await carol.ReadLineAsync(Patience);
                if (Position().Match(line) is { Success: true } fresh)
                {
                    (offset, epoch) = (long.Parse(fresh.Groups[2].Value, CultureInfo.InvariantCulture), fresh.Groups[3].Value);
                    renewed++;
                    continue;
                }

                if (line == $"alice: LINE {i}")
                {
                    offset++;
                    break;
                }
            }

            // The pace of the talk, not a synchronisation.
            await Task.Delay(200);
        }

        Assert.True(renewed >= 3, $"{renewed} fresh positions in 6 s");
        await carol.DisposeAsync();
        for (var i = 0; i < 3; i++)
        {
            await alice.SendAsync($"missed {i}");
        }

        await alice.ReadUntilAsync("MISSED 2", Patience);

        // The position from the join is older than the stream keeps: refused. The fresh one resumes on b.
        await using var again = await RoomClient.ConnectAsync(b.Endpoint);
        await again.SendAsync($"/resume {room} {joined.Offset} {joined.Epoch}");
        Assert.Equal($"ERR resume: the room stream no longer holds {room}'s lines after that position; /join {room}",
            await again.ReadUntilAsync(l => l.StartsWith("ERR", StringComparison.Ordinal), Patience));
        await again.SendAsync($"/resume {room} {offset} {epoch}");
        await again.ReadUntilAsync($"OK resume {room}", Patience);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal($"* [{offset + 1 + i}] alice: MISSED {i}", await again.ReadLineAsync());
        }
    }

    private static async Task TalkAsync(RoomClient member, string tag, int lines)
    {
        for (var i = 0; i < lines; i++)
        {
            await member.SendAsync($"{tag} {i}");
        }
    }

    private static async Task<List<string>> ReadSaidAsync(RoomClient member, int lines)
    {
        var heard = new List<string>();
        while (heard.Count < lines)
        {
            var line = await member.ReadUntilAsync(l => !l.StartsWith('*'), Patience);
            if (line.Contains(": ", StringComparison.Ordinal))
            {
                heard.Add(line);
            }
        }

        return heard;
    }

    /// <summary>Skips the history to the position line <c>* [at ROOM N EPOCH]</c>.</summary>
    internal static async Task<(string Room, long Offset, string Epoch)> ReadPositionAsync(RoomClient member)
    {
        var line = await member.ReadUntilAsync(l => l.StartsWith("* [at ", StringComparison.Ordinal), Patience);
        var match = Position().Match(line);
        Assert.True(match.Success, $"not a position line: {line}");
        return (match.Groups[1].Value, long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), match.Groups[3].Value);
    }

    [GeneratedRegex(@"^\* \[at (\S+) (\d+) ([A-Za-z0-9]{8})\]$")]
    private static partial Regex Position();

    internal static NatsRoomBus Bus(TestServer server) => server.Server.Services.GetRequiredService<NatsRoomBus>();

    internal static async Task<TestServer> StartInstanceAsync(NatsServer nats, Action<ShoutServerOptions>? configure = null, LogCapture? logs = null)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.ExactlyOnce = true;
            o.Rooms.Bus.SharedOffsets = true;
            configure?.Invoke(o);
        }, logs: logs);
        await Bus(server).Ready.WaitAsync(Patience);
        Assert.True(Bus(server).Shared, "shared offsets are not on");
        return server;
    }
}
