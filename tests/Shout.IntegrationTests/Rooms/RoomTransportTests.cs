using System.Security.Cryptography;
using Shout.Client;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;

namespace Shout.IntegrationTests.Rooms;

/// <summary>One room, members on every stream transport: each hears the others.</summary>
public sealed class RoomTransportTests
{
    [Fact]
    public async Task Tcp_tls_unix_websocket_and_udp_members_share_one_room()
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"shout-room-{Guid.NewGuid():N}.sock");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("tls://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("unix://" + socketPath));
            o.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0"));
            o.Web.Address = new Uri("http://127.0.0.1:0");
        });
        var pin = new ShoutClientOptions
        {
            Pin = CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256))),
        };
        var members = new List<ITestMember>
        {
            await TestMembers.NamedAsync(new TestMembers.Stream("tcp", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tcp)))),
            await TestMembers.NamedAsync(new TestMembers.Stream("tls", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tls), pin))),
            await TestMembers.NamedAsync(new TestMembers.Stream("unix", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Unix)))),
            await TestMembers.NamedAsync(await TestMembers.WebSocketMember.ConnectAsync("ws", server.WebSocketUri())),
            await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("udp", server.EndpointOf(ShoutTransport.Udp))),
        };
        try
        {
            foreach (var member in members)
            {
                await member.SendAsync("hello from " + member.Nick);
                Assert.Equal("HELLO FROM " + member.Nick.ToUpperInvariant(), await member.ReadUntilAsync(l => !l.StartsWith('*')));
                foreach (var other in members.Where(m => m != member))
                {
                    Assert.Equal($"{member.Nick}: HELLO FROM {member.Nick.ToUpperInvariant()}", await other.ReadUntilAsync(l => !l.StartsWith('*')));
                }
            }

            await members[0].SendAsync("/who");
            Assert.Equal("WHO lobby tcp tls udp unix ws", await members[0].ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }

        var transports = server.Metrics.Snapshot().Where(t => t.Accepted > 0).Select(t => t.Transport).ToHashSet();
        Assert.Superset(new HashSet<string> { "tcp", "tls", "unix", "ws", "udp" }, transports);
    }
}
