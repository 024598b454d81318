using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Load.Room;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// <c>bench room</c> for about a second against one instance, two over NATS and ncat's broker:
/// every owed delivery arrives once, in order. Rates are never asserted.
/// </summary>
public sealed class RoomBenchTests
{
    private static RoomBenchOptions Short(params ShoutEndpoint[] endpoints) => new()
    {
        Endpoints = endpoints,
        Members = 12,
        Rooms = 2,
        Senders = 4,
        Rate = 50,
        Duration = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public async Task Against_one_instance_every_delivery_arrives_once_in_order()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        var result = await RoomBench.RunAsync(Short(server.Endpoint));
        AssertComplete(result);

        // The server is this process here, found by its listening socket: its CPU time is read.
        Assert.True(result.ServerCpuSeconds > 0, $"server CPU {result.ServerCpuSeconds}");
        Assert.True(result.ServerMicrosecondsPerDelivery > 0);
    }

    [Fact]
    public async Task A_second_run_on_the_same_rooms_does_not_count_their_history_as_malformed()
    {
        // Each member of the second run joins a room holding the first run's lines, given as `* [N] S0: S0 5 …`.
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        AssertComplete(await RoomBench.RunAsync(Short(server.Endpoint)));
        var history = server.Server.Services.GetRequiredService<RoomHistory>();
        Assert.True(history.Find("r0") is { } r0 && r0.Last > 0, "the first run left no history to be given");
        AssertComplete(await RoomBench.RunAsync(Short(server.Endpoint)));
    }

    [Fact]
    public async Task Against_two_instances_over_nats_every_delivery_arrives_once_in_order()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var a = await StartInstanceAsync(nats);
        await using var b = await StartInstanceAsync(nats);
        var result = await RoomBench.RunAsync(Short(a.Endpoint, b.Endpoint));
        AssertComplete(result);
    }

    [Fact]
    public async Task Against_ncat_broker_lines_relayed_as_they_are_are_checked_too()
    {
        var port = FreePort();
        await using var ncat = ProcessHarness.Start(Tools.Require("ncat"), ["--broker", "--listen", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var endpoint = ShoutEndpoint.ForTcp("127.0.0.1", port);
        await Eventually.TrueAsync(() => CanConnect(port), TimeSpan.FromSeconds(10), () => "ncat is not listening");
        var result = await RoomBench.RunAsync(Short(endpoint) with { Rooms = 1, ShoutRooms = false });
        AssertComplete(result);
    }

    private static void AssertComplete(RoomBenchResult result)
    {
        Assert.True(result.Sent > 0, "nothing sent");
        Assert.True(result.Expected > result.Sent, "no fan-out owed");
        Assert.Equal(result.Expected, result.Delivered);
        Assert.Equal(0, result.Lost);
        Assert.Equal(0, result.Duplicated);
        Assert.Equal(0, result.Reordered);
        Assert.Equal(0, result.Malformed);
        Assert.True(result.Latency.Max >= result.Latency.P50);
        Assert.True(result.Latency.P50 > 0, "no latency recorded");
        Assert.True(result.ClientCpuSeconds > 0, "the client's CPU time was not read");
    }

    private static async Task<TestServer> StartInstanceAsync(NatsServer nats)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
        });
        await server.Server.Services.GetRequiredService<NatsRoomBus>().Ready.WaitAsync(TimeSpan.FromSeconds(20));
        return server;
    }

    private static bool CanConnect(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
