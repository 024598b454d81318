using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.Client;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// A host name can resolve to several addresses (localhost: ::1 and 127.0.0.1) of which only one
/// has the server; the clients try each in turn. The candidates are given directly here because
/// what a name resolves to depends on the machine.
/// </summary>
public sealed class AddressCandidateTests
{
    [Fact]
    public async Task Tcp_moves_on_from_an_address_that_refuses()
    {
        await using var server = await TestServer.StartAsync();
        var refused = new IPEndPoint(IPAddress.Loopback, UnusedPort(SocketType.Stream, ProtocolType.Tcp, IPAddress.Loopback));
        await using var client = await ShoutConnection.ConnectToAnyAsync(
            [refused, new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port)], TimeSpan.FromSeconds(10), CancellationToken.None);
        await client.Stream.WriteAsync("second"u8.ToArray());
        await client.HalfCloseAsync();
        using var output = new MemoryStream();
        await client.Stream.CopyToAsync(output, new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        Assert.Equal("SECOND", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task Udp_moves_on_when_the_first_address_answers_with_port_unreachable()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        var refused = new IPEndPoint(IPAddress.IPv6Loopback, UnusedPort(SocketType.Dgram, ProtocolType.Udp, IPAddress.IPv6Loopback));
        using var client = ShoutDatagramClient.ForCandidates([refused, new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port)],
            new ShoutClientOptions { ReplyTimeout = TimeSpan.FromSeconds(5), Retries = 0 });
        Assert.Equal("SECOND", Encoding.UTF8.GetString(await client.RequestAsync("second"u8.ToArray()) ?? []));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port), client.RemoteEndPoint);
    }

    /// <summary>A port that was just free: bound, then released, so nothing listens on it.</summary>
    private static int UnusedPort(SocketType type, ProtocolType protocol, IPAddress address)
    {
        using var socket = new Socket(address.AddressFamily, type, protocol);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
