using System.Net.Sockets;
using System.Net;
using System.Text;
using Shout.Client;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using Shout.Sessions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// RELIABILITY row 28: a UDP source joins a room only by echoing the token the server sent to its
/// address; until then it gets at most 3× the bytes it sent (a forged source address is not a
/// reflector), and a member that stops sending leaves at the lease. The CLI and library clients
/// join by themselves.
/// </summary>
public sealed class UdpRoomJoinTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(12)]
    [InlineData(1200)]
    public async Task Row28_one_datagram_from_an_address_that_never_answers_gets_at_most_3x_its_bytes_while_the_room_talks(int size)
    {
        await using var server = await StartRoomsAsync();
        using var victim = Bound();
        var datagram = size == 12 ? "/join lobby\n"u8.ToArray() : Enumerable.Repeat((byte)'x', size).ToArray();
        await victim.SendToAsync(datagram, SocketFlags.None, UdpOf(server));

        // The victim's datagram is handled before these members' (one receive loop, in order), so
        // whatever it is owed is in its buffer once they have joined.
        await using var listener = await TestMembers.Datagram.JoinAsync("listener", server.EndpointOf(ShoutTransport.Udp));
        await TestMembers.NamedAsync(listener);
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");
        for (var i = 0; i < 200; i++)
        {
            await talker.SendAsync($"line {i} of the room's talk");
        }

        await listener.ReadUntilAsync(l => l == "talker: LINE 199 OF THE ROOM'S TALK");
        await talker.SendAsync("/who");
        Assert.Equal("WHO lobby listener talker", await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));

        var (bytes, datagrams) = Drain(victim);
        Assert.True(bytes <= 3 * size, $"{bytes} bytes in {datagrams.Count} datagrams to an address that sent {size}: {string.Join(" | ", datagrams)}");
        Assert.DoesNotContain(datagrams, d => d.Contains("LINE", StringComparison.Ordinal));
        Assert.All(datagrams, d => Assert.Matches("^/join( lobby [a-z2-7]{8})?$", d));
        if (size == 1)
        {
            Assert.Empty(datagrams);
            Assert.True(server.Metrics.DatagramsWithheld >= 1, "the withheld reply was not counted");
        }
        else
        {
            Assert.Single(datagrams);
        }
    }

    [Fact]
    public async Task A_datagram_is_whole_lines_so_quit_without_a_newline_ends_the_membership()
    {
        await using var server = await StartRoomsAsync();
        await using var member = await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("dgram", server.EndpointOf(ShoutTransport.Udp)));
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");

        // Two lines in one datagram, the last unterminated: the room hears both as lines.
        await member.SendAsync("one\ntwo");
        Assert.Equal("dgram: ONE", await talker.ReadUntilAsync(l => l.StartsWith("dgram:", StringComparison.Ordinal)));
        Assert.Equal("dgram: TWO", await talker.ReadUntilAsync(l => l.StartsWith("dgram:", StringComparison.Ordinal)));

        await member.SendAsync("quit");
        Assert.Equal("QUIT", await member.ReadUntilAsync(l => l == "QUIT"));
        Assert.Equal("* dgram left lobby", await talker.ReadUntilAsync(l => l.Contains("left", StringComparison.Ordinal)));
        await talker.SendAsync("/who");
        Assert.Equal("WHO lobby talker", await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Row28_a_source_that_echoed_its_token_gets_the_room_and_one_that_did_not_gets_only_its_challenge()
    {
        await using var server = await StartRoomsAsync();
        await using var confirmed = await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("confirmed", server.EndpointOf(ShoutTransport.Udp)));
        using var unconfirmed = Bound();
        var udp = UdpOf(server);
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");

        // It asks, gets its line, and never sends it back; a made-up token and plain lines change nothing.
        foreach (var line in new[] { "/join lobby\n", "/join lobby zzzzzzzz\n", "hello everyone\n", "/nick intruder\n" })
        {
            await unconfirmed.SendToAsync(Encoding.UTF8.GetBytes(line), SocketFlags.None, udp);
            Assert.Matches("^/join lobby [a-z2-7]{8}$", await ReceiveAsync(unconfirmed));
        }

        await talker.SendAsync("hi all");
        Assert.Equal("talker: HI ALL", await confirmed.ReadUntilAsync(l => !l.StartsWith('*')));
        await talker.SendAsync("/who");
        var before = await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal));
        Assert.Equal("WHO lobby confirmed talker", before);
        Assert.DoesNotContain(talker.Seen, l => l.Contains("HELLO EVERYONE", StringComparison.Ordinal) || l.Contains("intruder", StringComparison.Ordinal));

        var (bytes, datagrams) = Drain(unconfirmed);
        Assert.True(datagrams.Count == 0 && bytes == 0, $"after its challenges the unconfirmed source got {string.Join(" | ", datagrams)}");
    }

    [Fact]
    public async Task Row28_a_member_that_stops_sending_leaves_at_the_lease_and_one_that_keeps_sending_stays()
    {
        var clock = new WatchedClock();
        await using var server = await StartRoomsAsync(o => o.UdpLease = TimeSpan.FromSeconds(30), clock);
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");
        await using var silent = await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("silent", server.EndpointOf(ShoutTransport.Udp)));
        await using var chatty = await TestMembers.NamedAsync(await TestMembers.Datagram.JoinAsync("chatty", server.EndpointOf(ShoutTransport.Udp)));

        clock.Fake.Advance(TimeSpan.FromSeconds(20));
        var seen = UdpDatagrams(server);
        await chatty.SendAsync("");
        await Eventually.TrueAsync(() => UdpDatagrams(server) > seen, Timeout, () => "the empty datagram did not reach the server");

        // 29 s after the silent member's last datagram: both still members.
        clock.Fake.Advance(TimeSpan.FromSeconds(9));
        await talker.SendAsync("/who");
        Assert.Equal("WHO lobby chatty silent talker", await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));

        // Past 30 s (and the sweep's second): the silent one leaves, the one that sent 20 s ago stays.
        clock.Fake.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("* silent left lobby", await talker.ReadUntilAsync(l => l.StartsWith('*')));
        await talker.SendAsync("/who");
        Assert.Equal("WHO lobby chatty talker", await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
        var port = $":{silent.LocalPort}";
        await Eventually.TrueAsync(() => server.Server.Services.GetEvents().Any(e => e.Kind == ConnectionEventKind.Closed && e.Remote.EndsWith(port, StringComparison.Ordinal)),
            Timeout, () => "no closed event for the silent member");
        Assert.Equal(CloseReason.LeaseExpired,
            server.Server.Services.GetEvents().Single(e => e.Kind == ConnectionEventKind.Closed && e.Remote.EndsWith(port, StringComparison.Ordinal)).Reason);

        // The room's lines no longer go to it: it must confirm again.
        await talker.SendAsync("after the lease");
        Assert.Equal("talker: AFTER THE LEASE", await chatty.ReadUntilAsync(l => !l.StartsWith('*')));
        await silent.SendAsync("I am back\n");
        string line;
        while (!(line = await silent.ReadLineAsync()).StartsWith("/join", StringComparison.Ordinal))
        {
            Assert.DoesNotContain("AFTER THE LEASE", line, StringComparison.Ordinal);
        }

        Assert.Matches("^/join lobby [a-z2-7]{8}$", line);
    }

    [Fact]
    public async Task A_library_client_keeps_its_membership_past_the_lease_with_its_keepalives()
    {
        var clock = new WatchedClock();
        await using var server = await StartRoomsAsync(o => o.UdpLease = TimeSpan.FromSeconds(30), clock);
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");
        await using var kept = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Udp), "kept",
            new ShoutClientOptions { KeepAlive = TimeSpan.FromMilliseconds(100) });

        // Four times 20 s on the server's clock, each after a keepalive arrived: 80 s, past the lease twice.
        for (var i = 0; i < 4; i++)
        {
            var seen = UdpDatagrams(server);
            await Eventually.TrueAsync(() => UdpDatagrams(server) > seen, Timeout, () => "no keepalive arrived");
            clock.Fake.Advance(TimeSpan.FromSeconds(20));
        }

        await talker.SendAsync("still there?");
        Assert.Equal("talker: STILL THERE?", await kept.ReadUntilAsync(l => !l.StartsWith('*')));
        await talker.SendAsync("/who");
        Assert.Equal("WHO lobby kept talker", await talker.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Chat_over_udp_joins_the_room_by_itself_and_talks_with_a_tcp_member()
    {
        await using var server = await StartRoomsAsync();
        await using var talker = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "talker");
        await using var chat = ProcessHarness.StartShout("chat", "-a", server.EndpointOf(ShoutTransport.Udp).ToString());
        await chat.Stdin.WriteLineAsync("hello");
        await chat.Stdin.FlushAsync();
        await chat.WaitForLineAsync("HELLO", Timeout);
        var heard = await talker.ReadUntilAsync(l => !l.StartsWith('*'));
        Assert.Matches("^guest[0-9]+: HELLO$", heard);

        await chat.Stdin.WriteLineAsync("/nick udpchat");
        await chat.Stdin.FlushAsync();
        await chat.WaitForLineAsync("OK nick udpchat", Timeout);
        await talker.SendAsync("hi chat");
        await chat.WaitForLineAsync("talker: HI CHAT", Timeout);
        await chat.Stdin.WriteLineAsync("quit");
        await chat.Stdin.FlushAsync();
        await chat.WaitForLineAsync("QUIT", Timeout);
        chat.Stdin.Close();
        Assert.Equal(0, await chat.WaitForExitAsync(Timeout));
        // The join's own lines are not shown, nor the greeting after them (a datagram client counts one reply per datagram).
        Assert.DoesNotContain("/join", chat.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("OK room", chat.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("* you are ", chat.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hello", "HELLO")]
    [InlineData("h", "H")]
    public async Task Send_over_udp_in_room_mode_prints_its_answer_as_in_stream_mode(string message, string expected)
    {
        await using var server = await StartRoomsAsync();
        var udp = server.EndpointOf(ShoutTransport.Udp);
        var result = await CliRunner.ShoutAsync(["send", "-u", "-a", $"{udp.Host}:{udp.Port}", message], timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        // The join (its OK room and the greeting after it) is the client's business: the answer exactly as in stream mode.
        Assert.Equal(expected + "\n", result.StdoutText);
    }

    private static Task<TestServer> StartRoomsAsync(Action<ShoutServerOptions>? configure = null, TimeProvider? clock = null) =>
        TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0"));
            configure?.Invoke(o);
        }, clock: clock);

    private static IPEndPoint UdpOf(TestServer server)
    {
        var udp = server.EndpointOf(ShoutTransport.Udp);
        return new IPEndPoint(IPAddress.Parse(udp.Host), udp.Port);
    }

    private static long UdpDatagrams(TestServer server) => server.Metrics.Snapshot().Where(t => t.Transport == "udp").Sum(t => t.Messages);

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes);
    }

    /// <summary>Everything waiting in the socket's receive buffer, without waiting for more.</summary>
    private static (long Bytes, List<string> Datagrams) Drain(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        var datagrams = new List<string>();
        long bytes = 0;
        while (socket.Available > 0)
        {
            var received = socket.Receive(buffer);
            bytes += received;
            datagrams.Add(Encoding.UTF8.GetString(buffer, 0, received));
        }

        return (bytes, datagrams);
    }
}
