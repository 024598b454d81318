using System.Security.Cryptography;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.Server;

namespace Shout.IntegrationTests.Rooms;

/// <summary>One room, members on every stream transport: each hears the others.</summary>
public sealed class RoomTransportTests
{
    [Fact]
    public async Task Tcp_tls_and_unix_members_share_one_room()
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"shout-room-{Guid.NewGuid():N}.sock");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("tls://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("unix://" + socketPath));
        });
        var pin = new ShoutClientOptions
        {
            Pin = CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256))),
        };
        var members = new (string Nick, RoomClient Client)[]
        {
            ("tcp", await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "tcp")),
            ("tls", await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tls), "tls", pin)),
            ("unix", await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Unix), "unix")),
        };
        try
        {
            foreach (var (nick, client) in members)
            {
                await client.SendAsync("hello from " + nick);
                Assert.Equal("HELLO FROM " + nick.ToUpperInvariant(), await client.ReadUntilAsync(l => !l.StartsWith('*')));
                foreach (var (other, otherClient) in members.Where(m => m.Nick != nick))
                {
                    Assert.Equal($"{nick}: HELLO FROM {nick.ToUpperInvariant()}", await otherClient.ReadUntilAsync(l => !l.StartsWith('*')));
                }
            }

            await members[0].Client.SendAsync("/who");
            Assert.Equal("WHO lobby tcp tls unix", await members[0].Client.ReadLineAsync());
        }
        finally
        {
            foreach (var (_, client) in members)
            {
                await client.DisposeAsync();
            }
        }

        await server.WaitForNoConnectionsAsync();
        var transports = server.Metrics.Snapshot().Select(t => t.Transport).ToHashSet();
        Assert.Superset(new HashSet<string> { "tcp", "tls", "unix" }, transports);
    }
}
