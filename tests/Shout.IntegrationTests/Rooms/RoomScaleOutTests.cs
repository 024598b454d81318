using System.Globalization;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Operate;

namespace Shout.IntegrationTests.Rooms;

/// <summary>Two `shout serve --mode room` processes behind HAProxy (deploy/haproxy.cfg), joined by nats-server: one room.</summary>
public sealed class RoomScaleOutTests
{
    [Fact]
    public async Task Members_spread_by_haproxy_over_two_instances_share_one_room()
    {
        var haproxy = Tools.Require("haproxy");
        await using var nats = await NatsServer.StartAsync();
        string[] Args() => ["serve", "--mode", "room", "--bus", nats.Url.ToString(), "--listen", "tcp://127.0.0.1:0", "--web", "none",
            "--proxy-protocol", "--trusted-proxy", "127.0.0.1/32", "-v"];
        await using var a = ProcessHarness.StartShout(Args());
        await using var b = ProcessHarness.StartShout(Args());
        var portA = await ScaleOutTests.ListeningPortAsync(a);
        var portB = await ScaleOutTests.ListeningPortAsync(b);
        var (balancer, lbPort) = await ScaleOutTests.StartHaproxyAsync(haproxy, portA, portB);
        await using (balancer)
        {
            var endpoint = ShoutEndpoint.ForTcp("127.0.0.1", lbPort);
            var members = new List<RoomClient>();
            try
            {
                for (var i = 0; i < 4; i++)
                {
                    members.Add(await RoomClient.JoinAsync(endpoint, "m" + i.ToString(CultureInfo.InvariantCulture)));
                }

                // Round robin: m0 and m2 on one instance, m1 and m3 on the other. Lines cross once the
                // instances' subscriptions are in place at NATS: probe until m1 hears m0.
                var probe = 0;
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (true)
                {
                    await members[0].SendAsync($"probe {probe}");
                    var heard = await members[1].TryReadLineAsync(TimeSpan.FromMilliseconds(500));
                    while (heard is not null && heard.StartsWith('*'))
                    {
                        heard = await members[1].TryReadLineAsync(TimeSpan.FromMilliseconds(500));
                    }

                    if (heard is not null)
                    {
                        Assert.Equal($"m0: PROBE {probe}", heard);
                        break;
                    }

                    Assert.True(DateTime.UtcNow < deadline, $"no line crossed between the instances\na:\n{a.Stdout}\nb:\n{b.Stdout}");
                    probe++;
                }

                await members[3].SendAsync("/who");
                Assert.Equal("WHO lobby m0 m1 m2 m3", await members[3].ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
                await members[3].SendAsync("from three");
                foreach (var other in new[] { members[0], members[1], members[2] })
                {
                    Assert.Equal("m3: FROM THREE", await other.ReadUntilAsync(l => l.StartsWith("m3:", StringComparison.Ordinal)));
                }

                Assert.Contains("accepted", a.Stdout, StringComparison.Ordinal);
                Assert.Contains("accepted", b.Stdout, StringComparison.Ordinal);
            }
            finally
            {
                foreach (var member in members)
                {
                    await member.DisposeAsync();
                }
            }
        }
    }
}
