using Microsoft.Extensions.DependencyInjection;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms;
using Shout.Rooms.Bus;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// The room stream and the presence bucket, refused at start, are found later without a restart of
/// Shout: here the NATS server had no JetStream and is restarted with it (a cluster still forming
/// refuses them the same way until its servers have joined).
/// </summary>
public sealed class RoomStreamLaterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // A JetStream request to a cluster without a leader takes its timeout (5 s) to fail, and the
    // instance asks again after 1, 2, 4, 8, 16 and 30 s: a minute covers forming and the next ask.
    private static readonly TimeSpan FormingPatience = TimeSpan.FromSeconds(60);

    // Long enough that a scatter-gather /who could never answer within Patience: an answer in time came from the bucket.
    private static readonly TimeSpan NoScatterGather = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Instances_started_without_JetStream_take_up_the_stream_and_the_bucket_once_the_server_has_them()
    {
        await using var nats = await NatsServer.StartAsync();
        var logs = new LogCapture();
        await using var a = await StartInstanceAsync(nats, logs);
        await using var b = await StartInstanceAsync(nats);
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.StartsWith("Room presence: no JetStream bucket on the bus", StringComparison.Ordinal)),
            Patience, () => "a never said it has no presence bucket");
        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Room history: no JetStream stream on the bus", StringComparison.Ordinal));
        Assert.False(Bus(a).Stored);
        Assert.False(Bus(a).PresenceReady);

        await nats.KillAsync();
        await nats.StartAgainAsync(["-js"]);
        foreach (var (name, server) in new[] { ("a", a), ("b", b) })
        {
            await Eventually.TrueAsync(() => Bus(server).Stored && Bus(server).PresenceReady, Patience,
                () => $"{name} never took up the stream and the bucket: stored {Bus(server).Stored}, presence {Bus(server).PresenceReady}");
        }

        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Room history: JetStream stream SHOUT_ROOMS ready now", StringComparison.Ordinal));

        // /who from the bucket: in time, so not by asking the instances (that would take NoScatterGather).
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        var who = "";
        var deadline = DateTime.UtcNow + Patience;
        while (who != "WHO lobby alice bob" && DateTime.UtcNow < deadline)
        {
            await bob.SendAsync("/who");
            who = await bob.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal), Patience);
        }

        Assert.Equal("WHO lobby alice bob", who);

        // Exactly once through the stream from a to b, and the stream keeps the line: an instance started now reads it back.
        await alice.SendAsync("kept");
        Assert.Equal("alice: KEPT", await bob.ReadUntilAsync(l => l.StartsWith("alice:", StringComparison.Ordinal), Patience));
        await using var c = await StartInstanceAsync(nats);
        Assert.True(Bus(c).Stored);
        await using var carol = await RoomClient.ConnectAsync(c.Endpoint);
        Assert.Matches(@"^\* \[\d+\] alice: KEPT$", await carol.ReadUntilAsync(l => l.Contains("alice: KEPT", StringComparison.Ordinal), Patience));
    }

    [Fact]
    public async Task An_instance_started_while_its_cluster_is_still_forming_takes_up_the_stream_of_three_copies_once_it_has_formed()
    {
        await using var cluster = await NatsCluster.StartFirstNodeAsync();
        var logs = new LogCapture();
        await using var a = await StartInstanceAsync(cluster.Nodes[0].Url.ToString(), logs, replicas: 3);
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.StartsWith("Room history: no JetStream stream on the bus", StringComparison.Ordinal)),
            FormingPatience, () => "a never said it has no room stream");
        Assert.False(Bus(a).Stored);

        await cluster.JoinTheOthersAsync(FormingPatience);
        await Eventually.TrueAsync(() => Bus(a).Stored && Bus(a).PresenceReady, FormingPatience,
            () => $"a never took up the stream and the bucket: stored {Bus(a).Stored}, presence {Bus(a).PresenceReady}");

        // Three copies, as asked; and a line said on a reaches an instance on another node through it.
        await using (var nats = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = cluster.Urls(0) }))
        {
            var stream = await new NATS.Client.JetStream.NatsJSContext(nats).GetStreamAsync(RoomStore.Name);
            Assert.Equal(3, stream.Info.Config.NumReplicas);
        }

        await using var b = await StartInstanceAsync(cluster.Urls(1), null, replicas: 3);
        Assert.True(Bus(b).Stored);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await Eventually.TrueAsync(() => a.Server.Services.GetRoomMetrics().Received >= 1, Patience, () => "a never heard bob join");
        await alice.SendAsync("formed");
        Assert.Equal("alice: FORMED", await bob.ReadUntilAsync(l => l.StartsWith("alice:", StringComparison.Ordinal), Patience));
    }

    private static NatsRoomBus Bus(TestServer server) => server.Server.Services.GetRequiredService<NatsRoomBus>();

    private static Task<TestServer> StartInstanceAsync(NatsServer nats, LogCapture? logs = null) =>
        StartInstanceAsync(nats.Url.ToString(), logs, replicas: 1);

    private static async Task<TestServer> StartInstanceAsync(string servers, LogCapture? logs, int replicas)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.Parse(servers);
            o.Rooms.Bus.ExactlyOnce = true;
            o.Rooms.Bus.Replicas = replicas;
            o.Rooms.WhoTimeout = NoScatterGather;
        }, logs: logs);
        await Bus(server).Ready.WaitAsync(Patience);
        return server;
    }
}
