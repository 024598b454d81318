using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms.Bus;
using Shout.Rooms;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Presence across instances from the JetStream bucket (nats-server -js): <c>/who</c> answers at once,
/// follows a clean leave within 1 s and drops a crashed instance's members within 3 heartbeats.
/// </summary>
public sealed class RoomPresenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // Long enough that a scatter-gather /who could never answer within Patience: an answer in time came from the bucket.
    private static readonly TimeSpan NoScatterGather = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Who_on_one_instance_lists_the_others_members_from_the_bucket_without_asking_them()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        Assert.True(Bus(b).PresenceReady);
        await WaitForAsync(b, "lobby", n => n.Contains("alice"), "b never listed alice");
        await WaitForAsync(a, "lobby", n => n.Contains("bob"), "a never listed bob");

        await bob.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await bob.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal), Patience));
        await alice.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await alice.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal), Patience));

        // A rename and a move follow too.
        await alice.SendAsync("/nick alicia");
        await alice.SendAsync("/join dev");
        await WaitForAsync(b, "dev", n => n.SequenceEqual(["alicia"]), "b never listed alicia in dev");
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["bob"]), "b still lists someone of a in the lobby");
    }

    [Fact]
    public async Task A_member_who_leaves_cleanly_is_gone_from_who_on_the_other_instance_within_1_s()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);

        // Heartbeats far apart: only the leave itself can make the other instance forget her in time.
        TestServer? a = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = TimeSpan.FromSeconds(30));
        try
        {
            await using var b = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = TimeSpan.FromSeconds(30));
            await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
            await using var carol = await RoomClient.JoinAsync(a.Endpoint, "carol");
            await WaitForAsync(b, "lobby", n => n.SequenceEqual(["alice", "carol"]), "b never listed alice and carol");

            await alice.SendAsync("quit");
            await Eventually.TrueAsync(() => !Hub(a).LocalNicks("lobby").Contains("alice"), Patience, () => "alice never left a");
            var left = Stopwatch.StartNew();
            await WaitForAsync(b, "lobby", n => n.SequenceEqual(["carol"]), "b still lists alice");
            output.WriteLine($"clean leave seen on b after {left.Elapsed.TotalMilliseconds:0} ms");
            Assert.True(left.Elapsed <= TimeSpan.FromSeconds(1), $"b dropped alice {left.Elapsed.TotalMilliseconds:0} ms after she left a");

            // An instance stopping cleanly takes its members with it, without waiting for heartbeats (30 s).
            var stopping = Stopwatch.StartNew();
            var disposing = a.DisposeAsync();
            a = null;
            await WaitForAsync(b, "lobby", n => n.Count == 0, "b still lists carol after a stopped");
            output.WriteLine($"carol gone from b {stopping.Elapsed.TotalMilliseconds:0} ms after a began stopping");
            await disposing;
            await WaitForAsync(b, "lobby", n => n.Count == 0, "b still lists carol after a stopped");
            output.WriteLine($"clean stop of a seen on b after {stopping.Elapsed.TotalMilliseconds:0} ms");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(15), "carol went only with the heartbeats");
        }
        finally
        {
            if (a is not null)
            {
                await a.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_crashed_instances_members_disappear_within_3_heartbeats_and_its_keys_are_removed()
    {
        var heartbeat = TimeSpan.FromMilliseconds(500);
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = heartbeat);
        await using var b = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = heartbeat);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["alice", "bob"]), "b never listed alice");

        // a's connection to NATS dies without a word: no key removed, no heartbeat after.
        var crashed = Stopwatch.StartNew();
        await Bus(a).AbandonForTestAsync();
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["bob"]), "b still lists alice");
        var gone = crashed.Elapsed;
        output.WriteLine($"crashed instance's member gone on b after {gone.TotalMilliseconds:0} ms (heartbeat {heartbeat.TotalMilliseconds:0} ms)");

        // The bound is 3 heartbeats from the last one b heard (at or before the crash); the slack is
        // only for this test's polling and a loaded machine's scheduling.
        Assert.True(gone <= (heartbeat * PresenceView.Beats) + TimeSpan.FromMilliseconds(500),
            $"alice went {gone.TotalMilliseconds:0} ms after a crashed (3 heartbeats: {(heartbeat * 3).TotalMilliseconds:0} ms)");

        // And b removed a's keys from the bucket, so an instance starting later does not see them.
        await using var client = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() });
        var store = await new NatsKVContext(new NatsJSContext(client)).GetStoreAsync(NatsRoomBus.PresenceBucket);
        var instance = Bus(a).Instance.ToString("N");
        await Eventually.TrueAsync(async () =>
        {
            var keys = new List<string>();
            try
            {
                await foreach (var key in store.GetKeysAsync())
                {
                    keys.Add(key);
                }
            }
            catch (NatsKVException)
            {
                // No keys at all.
            }

            return !keys.Any(k => k.Contains(instance, StringComparison.Ordinal));
        }, Patience, () => "a's keys are still in the bucket");
    }

    [Fact]
    public async Task Junk_in_the_bucket_is_refused_and_counted_and_a_stranger_posing_as_an_instance_goes_with_its_heartbeat()
    {
        var heartbeat = TimeSpan.FromMilliseconds(300);
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var b = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = heartbeat);
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");

        await using var client = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() });
        var store = await new NatsKVContext(new NatsJSContext(client)).GetStoreAsync(NatsRoomBus.PresenceBucket);
        var fake = Guid.NewGuid().ToString("N");
        (string Key, string Value)[] junk =
        [
            ("x.y", "1"),
            ("i.nothex", "1000"),
            ("i." + fake.ToUpperInvariant(), "1000"),
            ("i." + fake, "abc"),
            ("i." + fake, "5"),
            ($"r.{fake}.room-name-longer-than-thirty-two-chars", "a\n"),
            ($"r.{fake}.lobby", "mallory"),
            ($"r.{fake}.lobby", "\u001b]52;c;ZWNobyBoaQ==\u0007\n"),
            ($"r.{fake}.lobby", "bad nick\n"),
        ];
        foreach (var (key, value) in junk)
        {
            await store.PutAsync(key, Encoding.UTF8.GetBytes(value));
        }

        var metrics = b.Server.Services.GetRoomMetrics();
        await Eventually.TrueAsync(() => metrics.RefusedTotal == junk.Length, Patience, () => $"refused {metrics.RefusedTotal} of {junk.Length}");
        await bob.SendAsync("/who");
        Assert.Equal("WHO lobby bob", await bob.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal), Patience));

        // Well-formed, a stranger can say what an instance could: it is listed while it beats, and goes when it stops.
        await store.PutAsync("i." + fake, Encoding.ASCII.GetBytes("300"));
        await store.PutAsync($"r.{fake}.lobby", Encoding.ASCII.GetBytes("mallory\n"));
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["bob", "mallory"]), "b never listed mallory");
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["bob"]), "b still lists mallory after her heartbeats stopped");
        Assert.Equal(junk.Length, metrics.RefusedTotal);
    }

    [Fact]
    public async Task After_nats_server_restarts_without_the_bucket_the_instances_make_it_again_and_who_converges()
    {
        var heartbeat = TimeSpan.FromMilliseconds(300);
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = heartbeat);
        await using var b = await StartInstanceAsync(nats, o => o.Rooms.PresenceHeartbeat = heartbeat);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["alice", "bob"]), "b never listed alice");

        // The bucket lives in the server's memory: gone with it.
        await nats.KillAsync();
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["bob"]), "b still lists alice with the bus down");
        await nats.StartAgainAsync();

        // Nobody joined or left meanwhile: only the instances making the bucket again and writing their rooms bring her back.
        await WaitForAsync(b, "lobby", n => n.SequenceEqual(["alice", "bob"]), "b never listed alice again");
        await WaitForAsync(a, "lobby", n => n.SequenceEqual(["alice", "bob"]), "a never listed bob again");
    }

    [Fact]
    public async Task Without_JetStream_who_still_asks_the_other_instances()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var a = await StartInstanceAsync(nats, o => o.Rooms.WhoTimeout = TimeSpan.FromMilliseconds(300), jetStream: false);
        await using var b = await StartInstanceAsync(nats, o => o.Rooms.WhoTimeout = TimeSpan.FromMilliseconds(300), jetStream: false);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await bob.SendAsync("/who");
        Assert.Equal("WHO lobby alice bob", await bob.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal), Patience));
        Assert.False(Bus(b).PresenceReady);
    }

    private static NatsRoomBus Bus(TestServer server) => server.Server.Services.GetRequiredService<NatsRoomBus>();

    private static RoomHub Hub(TestServer server) => server.Server.Services.GetRequiredService<RoomHub>();

    /// <summary>Polls the hub's /who (what a member gets) every few milliseconds until it matches.</summary>
    private static async Task WaitForAsync(TestServer server, string room, Func<IReadOnlyList<string>, bool> match, string failure)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<string> nicks = [];
        while (deadline.Elapsed < Patience)
        {
            using var timeout = new CancellationTokenSource(Patience);
            nicks = await Hub(server).WhoAsync(room, timeout.Token);
            if (match(nicks))
            {
                return;
            }

            await Task.Delay(5);
        }

        Assert.Fail($"{failure}: {string.Join(' ', nicks)}");
    }

    private static async Task<TestServer> StartInstanceAsync(NatsServer nats, Action<ShoutServerOptions>? configure = null, bool jetStream = true)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            o.Rooms.WhoTimeout = NoScatterGather;
            configure?.Invoke(o);
        });
        var bus = server.Server.Services.GetRequiredService<NatsRoomBus>();
        await bus.Ready.WaitAsync(Patience);
        if (jetStream)
        {
            // Before it, /who would ask the other instances (and wait NoScatterGather).
            await Eventually.TrueAsync(() => bus.PresenceReady, Patience, () => "presence never became ready");
        }

        return server;
    }
}
