using System.Net.Sockets;
using System.Net;
using System.Text;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Issue 22 item 5: a member is told who and where it is when it joins (on every transport; on UDP
/// after its <c>OK room</c>), and why it is closed when it was quiet for the idle timeout.
/// </summary>
public sealed class RoomGreetingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_tcp_member_is_greeted_first()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var member = await RoomClient.ConnectAsync(server.Endpoint);
        Assert.Equal("* you are guest1 in lobby (/nick NAME, /join ROOM, /who, quit)", await member.ReadLineAsync());

        // Then the room's history (none yet) and where it stands.
        Assert.Matches(@"^\* \[at lobby 0 [a-z2-9]{8}\]$", await member.ReadLineAsync());
        await member.SendAsync("hello");
        Assert.Equal("HELLO", await member.ReadLineAsync());
    }

    [Fact]
    public async Task A_websocket_member_is_greeted_first()
    {
        await using var server = await WebServer.StartServerAsync(o => o.Mode = ShoutMode.Room);
        using var socket = await server.ConnectWebSocketAsync();
        Assert.Equal("* you are guest1 in lobby (/nick NAME, /join ROOM, /who, quit)", await socket.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_udp_member_is_greeted_after_its_ok_room()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0"));
        });
        var udp = server.EndpointOf(ShoutTransport.Udp);
        var to = new IPEndPoint(IPAddress.Parse(udp.Host), udp.Port);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await socket.SendToAsync("/join lobby\n"u8.ToArray(), SocketFlags.None, to);
        var challenge = await ReceiveAsync(socket);
        Assert.Matches("^/join lobby [a-z2-7]{8}$", challenge);
        await socket.SendToAsync(Encoding.UTF8.GetBytes(challenge + "\n"), SocketFlags.None, to);
        Assert.Equal("OK room lobby", await ReceiveAsync(socket));
        Assert.Equal("* you are guest1 in lobby (/nick NAME, /join ROOM, /who, quit)", await ReceiveAsync(socket));
    }

    [Fact]
    public async Task A_quiet_tcp_member_is_told_why_before_the_idle_close()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.IdleTimeout = TimeSpan.FromSeconds(1);
        });
        await using var member = await RoomClient.ConnectAsync(server.Endpoint);
        await member.ReadLineAsync();
        await member.ReadLineAsync();
        Assert.Equal("* closed: idle for 1s (--idle-timeout)", await member.ReadLineAsync());
        var closed = false;
        Assert.Null(await member.TryReadLineAsync(Patience, () => closed = true));
        Assert.True(closed, "the server did not close the idle member");
    }

    [Fact]
    public async Task A_quiet_websocket_member_is_told_why_before_the_idle_close()
    {
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.IdleTimeout = TimeSpan.FromSeconds(1);
        });
        using var socket = await server.ConnectWebSocketAsync();
        await socket.ReceiveTextAsync();
        await socket.ReceiveTextAsync();
        Assert.Equal("* closed: idle for 1s (--idle-timeout)", await socket.ReceiveTextAsync());
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes);
    }
}
