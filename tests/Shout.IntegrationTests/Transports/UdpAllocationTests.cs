using System.Net;
using System.Net.Sockets;
using Shout.Client;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

/// <summary>
/// RELIABILITY row 13's "memory flat": the receive loop must not allocate per datagram (a 64 KiB
/// buffer per datagram would be 6 GiB here). Runs alone, since the allocation counter is per process.
/// </summary>
[Collection(nameof(AllocationMeasurements))]
public sealed class UdpAllocationTests
{
    [Fact]
    public async Task Answering_a_flood_allocates_almost_nothing_per_datagram()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var target = new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port).Serialize();
        var datagram = "flood ȿ hello"u8.ToArray();
        var reply = new byte[ShoutDatagramClient.MaxDatagramSize];
        client.ReceiveTimeout = 10_000;

        // Warm up (JIT, pools, the socket's cached async state), then measure ping-pongs.
        await PingPongAsync(client, target, datagram, reply, 2_000);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        const int count = 20_000;
        await PingPongAsync(client, target, datagram, reply, count);
        var perDatagram = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)count;

        Assert.True(perDatagram < 256, $"{perDatagram:F0} bytes allocated per datagram (server and test client together)");
    }

    private static Task PingPongAsync(Socket client, SocketAddress target, byte[] datagram, byte[] reply, int count) => Task.Run(() =>
    {
        for (var i = 0; i < count; i++)
        {
            client.SendTo(datagram, SocketFlags.None, target);
            client.Receive(reply);
        }
    });
}
