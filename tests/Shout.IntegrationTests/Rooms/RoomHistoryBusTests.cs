using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

/// <summary>History across instances: through the bus while they run, and from a JetStream stream (nats-server -js) for one that starts later.</summary>
public sealed class RoomHistoryBusTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_member_joining_instance_b_gets_the_lines_said_on_a_before_b_started()
    {
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await StartInstanceAsync(nats, o => o.Rooms.History = 4);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        for (var i = 0; i < 6; i++)
        {
            await alice.SendAsync($"line {i}");
        }

        await alice.ReadUntilAsync("LINE 5");
        await using (var client = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() }))
        {
            var js = new NatsJSContext(client);
            // The stream holds alice's last line before b starts: read it back here as b will.
            using var timeout = new CancellationTokenSource(Patience);
            var consumer = await js.CreateOrderedConsumerAsync(RoomStore.Name, cancellationToken: timeout.Token);
            await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: timeout.Token))
            {
                if (message.Data is { } data && data.AsSpan().IndexOf("alice: LINE 5"u8) >= 0)
                {
                    break;
                }
            }
        }

        await using var b = await StartInstanceAsync(nats, o => o.Rooms.History = 4);
        await using var bob = await RoomClient.ConnectAsync(b.Endpoint);
        Assert.StartsWith("* you are ", await bob.ReadLineAsync(), StringComparison.Ordinal);

        // Numbered in b's own order (its epoch): consecutive, the last one its position.
        var numbers = new List<long>();
        for (var i = 2; i < 6; i++)
        {
            var match = Regex.Match(await bob.ReadLineAsync(), $@"^\* \[(\d+)\] alice: LINE {i}$");
            Assert.True(match.Success, string.Join('\n', bob.Seen));
            numbers.Add(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        Assert.Equal(Enumerable.Range((int)numbers[0], 4).Select(n => (long)n), numbers);
        Assert.Matches(RoomHistoryTests.Position("lobby", numbers[^1]), await bob.ReadLineAsync());

        // And live from then on, once each.
        await alice.SendAsync("live");
        Assert.Equal("alice: LIVE", await bob.ReadUntilAsync(l => !l.StartsWith('*')));
    }

    [Fact]
    public async Task A_member_joining_b_gets_what_was_said_on_a_while_b_ran_even_in_a_room_nobody_on_b_was_in()
    {
        // Plain NATS, no JetStream: the running instance keeps what the bus brought.
        await using var nats = await NatsServer.StartAsync();
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await alice.SendAsync("/join dev");
        await alice.ReadUntilAsync("OK room dev");
        await alice.SendAsync("one");
        await alice.SendAsync("two");
        await alice.ReadUntilAsync("TWO");
        await Eventually.TrueAsync(() => b.Server.Services.GetRoomMetrics().Received >= 5, Patience, () => "b did not receive alice's lines");

        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await bob.SendAsync("/join dev");
        await bob.ReadUntilAsync("OK room dev");
        Assert.Equal("* [1] alice: ONE", await bob.ReadLineAsync());
        Assert.Equal("* [2] alice: TWO", await bob.ReadLineAsync());
        Assert.Matches(RoomHistoryTests.Position("dev", 2), await bob.ReadLineAsync());
    }

    private static async Task<TestServer> StartInstanceAsync(NatsServer nats, Action<ShoutServerOptions>? configure = null, LogCapture? logs = null)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            configure?.Invoke(o);
        }, logs: logs);
        await server.Server.Services.GetRequiredService<NatsRoomBus>().Ready.WaitAsync(Patience);
        return server;
    }
}
