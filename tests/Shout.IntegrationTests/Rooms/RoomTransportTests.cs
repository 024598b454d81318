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
            TestMembers.ListenOnEveryTransport(o, socketPath);
        });
        var members = await TestMembers.OnEveryTransportAsync(server);
        try
        {
            await TestMembers.EachSaysHelloAndAllHearAsync(members);

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
