using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 6: a flood past the connection limit N.</summary>
public sealed class Row06ConnectionLimitTests
{
    private const int Limit = 5;

    [Fact]
    public async Task Row06_flood_past_the_limit_serves_N_tells_extras_busy_and_reuses_a_freed_slot()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxConnections = Limit);
        var admission = server.Server.Services.GetRequiredService<SessionAdmission>();

        var served = new List<Socket>();
        for (var i = 0; i < Limit; i++)
        {
            served.Add(await ServedAsync(server, IPAddress.Loopback));
        }

        // Two extras: one busy line each, then EOF.
        for (var i = 0; i < 2; i++)
        {
            using var extra = await RawClient.ConnectAsync(server.Endpoint);
            Assert.Equal($"ERR server busy (max {Limit} connections)\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(extra)));
        }

        Assert.Equal(2, server.Metrics.ClosedFor(CloseReason.Limit));

        // Close one: its slot is given to the next client.
        served[0].Shutdown(SocketShutdown.Send);
        Assert.Empty(await RawClient.ReadToEndAsync(served[0]));
        served[0].Dispose();
        await Eventually.TrueAsync(() => admission.Open == Limit - 1, TimeSpan.FromSeconds(15), () => $"{admission.Open} slots taken");
        served[0] = await ServedAsync(server, IPAddress.Loopback);

        foreach (var socket in served)
        {
            socket.Dispose();
        }

        await server.WaitForNoConnectionsAsync();
        await Eventually.TrueAsync(() => admission.Open == 0, TimeSpan.FromSeconds(15), () => $"{admission.Open} slots taken");
        Assert.Equal(2, server.Metrics.ClosedFor(CloseReason.Limit));
    }

    [Fact]
    public async Task Row06_per_address_limit_refuses_the_extra_from_that_address_only()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxConnectionsPerAddress = 2);
        var one = IPAddress.Parse("127.0.0.1");
        var two = IPAddress.Parse("127.0.0.2");
        using var a = await ServedAsync(server, one);
        using var b = await ServedAsync(server, one);

        using var extra = await RawClient.ConnectFromAsync(server.Endpoint, one);
        Assert.Equal("ERR too many connections from your address (max 2)\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(extra)));

        using var other = await ServedAsync(server, two);
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.Limit));
    }

    private static async Task<Socket> ServedAsync(TestServer server, IPAddress from)
    {
        var socket = await RawClient.ConnectFromAsync(server.Endpoint, from);
        await socket.SendAsync("served?"u8.ToArray());
        Assert.Equal("SERVED?", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, 7)));
        return socket;
    }
}
