using Microsoft.Extensions.DependencyInjection;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// With the room stream (nats-server -js), a line reaches every member on every instance exactly
/// once, across a restart of nats-server, and across the loss of the node leading the stream in a
/// cluster of three (<c>--bus-replicas 3</c>).
/// </summary>
public sealed class RoomExactlyOnceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_line_reaches_both_instances_exactly_once_in_order_across_a_5_s_nats_restart_mid_traffic(bool sharedOffsets)
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        using var logs = new LogCapture();
        await using var a = await StartInstanceAsync(nats.Url.ToString(), logs, replicas: 1, sharedOffsets);
        await using var b = await StartInstanceAsync(nats.Url.ToString(), logs, replicas: 1, sharedOffsets);

        // nats-server is killed, stays down 5 s and comes back with its store.
        await ExactlyOnceThroughAsync(a, b, logs, null, async talkFor =>
        {
            await nats.KillAsync();
            await Eventually.TrueAsync(() => !Bus(a).Connected && !Bus(b).Connected, Patience, () => "the instances did not notice NATS had gone");
            await talkFor(TimeSpan.FromSeconds(5));
            await nats.StartAgainAsync();
            await Eventually.TrueAsync(() => Bus(a).Connected && Bus(b).Connected, Patience, () => "the instances did not reconnect");
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_line_reaches_both_instances_exactly_once_in_order_when_the_streams_leader_of_a_3_node_cluster_is_killed_for_5_s(bool sharedOffsets)
    {
        await using var cluster = await NatsCluster.StartAsync(Patience);
        using var logs = new LogCapture();
        await using var a = await StartInstanceAsync(cluster.Urls(0), logs, replicas: 3, sharedOffsets);
        await using var b = await StartInstanceAsync(cluster.Urls(1), logs, replicas: 3, sharedOffsets);

        // The node that leads the room stream (three copies, --bus-replicas 3) is the one killed.
        var leader = -1;
        await ExactlyOnceThroughAsync(a, b, logs, async () =>
        {
            leader = await StreamLeaderAsync(cluster);
            Assert.True(leader >= 0, "no node leads the room stream");
        }, async talkFor =>
        {
            await cluster.Nodes[leader].KillAsync();
            await talkFor(TimeSpan.FromSeconds(5));
            await cluster.Nodes[leader].StartAgainAsync();
        });
    }

    /// <summary>
    /// alice and carol on <paramref name="a"/>, bob on <paramref name="b"/>; once the first line has
    /// crossed (and <paramref name="ready"/> ran), alice talks on, about 100 lines a second, for a
    /// second, through <paramref name="outage"/> (given a way to let her talk on for a while) and a
    /// second after it: bob and carol hear each of her lines once, in order, and nothing of hers after.
    /// </summary>
    private static async Task ExactlyOnceThroughAsync(TestServer a, TestServer b, LogCapture logs, Func<Task>? ready,
        Func<Func<TimeSpan, Task>, Task> outage)
    {
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var carol = await RoomClient.JoinAsync(a.Endpoint, "carol");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await alice.SendAsync("first");
        Assert.Equal("alice: FIRST", await bob.ReadUntilAsync(l => !l.StartsWith('*')));
        if (ready is not null)
        {
            await ready();
        }

        using var stop = new CancellationTokenSource();
        var said = 0;
        var talking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await alice.SendAsync($"n {said}");
                said++;
                await Task.Delay(10, CancellationToken.None);
            }
        });
        await WhileTalkingAsync(TimeSpan.FromSeconds(1), talking);
        await outage(span => WhileTalkingAsync(span, talking));
        await WhileTalkingAsync(TimeSpan.FromSeconds(1), talking);
        await stop.CancelAsync();
        await talking;

        var expected = Enumerable.Range(0, said).Select(i => $"alice: N {i}").ToList();
        foreach (var member in new[] { bob, carol })
        {
            var heard = (await member.ReadUntilAsync($"alice: N {said - 1}", Patience)).Where(l => l.StartsWith("alice: N ", StringComparison.Ordinal));
            Assert.True(expected[..^1].SequenceEqual(heard), Describe(expected[..^1], [.. heard], a, b, logs));
        }

        // Nothing of alice's comes again after her last line: the next line bob hears is carol's.
        await carol.SendAsync("after");
        Assert.Equal("carol: AFTER", await bob.ReadUntilAsync(l => !l.StartsWith('*'), Patience));
        Assert.Equal(0, a.Server.Services.GetRoomMetrics().LostPublishing);
    }

    /// <summary>The index of the node leading the room stream, asked of the cluster (-1 if none answers).</summary>
    private static async Task<int> StreamLeaderAsync(NatsCluster cluster)
    {
        await using var nats = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = cluster.Urls(0) });
        var js = new NATS.Client.JetStream.NatsJSContext(nats);
        var stream = await js.GetStreamAsync(RoomStore.Name);
        var name = stream.Info.Cluster?.Leader;
        for (var i = 0; i < cluster.Nodes.Count; i++)
        {
            if (name == $"n{i + 1}")
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>What went wrong: lines missing or twice, the instances' counts and the bus's log.</summary>
    private static string Describe(List<string> expected, List<string> heard, TestServer a, TestServer b, LogCapture logs)
    {
        var (onA, onB) = (a.Server.Services.GetRoomMetrics(), b.Server.Services.GetRoomMetrics());
        var twice = heard.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key);
        return $"said {expected.Count + 1}, heard {heard.Count}; missing: {string.Join(", ", expected.Except(heard))}; twice: {string.Join(", ", twice)}; "
            + $"a published {onA.Published}, lost {onA.LostPublishing}; b received {onB.Received}, duplicates {onB.Duplicates}, lost in transit {onB.LostInTransit}\n"
            + string.Join('\n', logs.AtLeast(Microsoft.Extensions.Logging.LogLevel.Information).Where(e => e.Category.Contains("Bus", StringComparison.Ordinal)));
    }

    /// <summary>Lets the talking go on for a while (the scenario's timing, not a synchronisation); fails early if it failed.</summary>
    private static async Task WhileTalkingAsync(TimeSpan span, Task talking)
    {
        await Task.WhenAny(talking, Task.Delay(span));
        if (talking.IsFaulted)
        {
            await talking;
        }
    }

    private static NatsRoomBus Bus(TestServer server) => server.Server.Services.GetRequiredService<NatsRoomBus>();

    private static async Task<TestServer> StartInstanceAsync(string servers, LogCapture? logs, int replicas, bool sharedOffsets)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.Parse(servers);
            o.Rooms.Bus.ExactlyOnce = true;
            o.Rooms.Bus.SharedOffsets = sharedOffsets;
            o.Rooms.Bus.Replicas = replicas;
        }, logs: logs);
        await Bus(server).Ready.WaitAsync(Patience);
        Assert.Equal(sharedOffsets, Bus(server).Shared);
        return server;
    }
}
