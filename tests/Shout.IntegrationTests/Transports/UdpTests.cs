using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.Protocols;
using Shout.Sessions;
using Shout.Text;
using Shout.Transports.Udp;

namespace Shout.IntegrationTests.Transports;

/// <summary>The datagram service: RELIABILITY rows 12 (maximum size, reply growth) and 13 (flood).</summary>
public sealed class UdpTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Each_datagram_gets_one_uppercased_reply_datagram()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        using var client = Connect(server.Endpoint);
        // Invalid UTF-8 (C3 28, FF, an overlong, an encoded surrogate, a cut character) passes through.
        byte[][] datagrams = [.. ((string[])["hello", "ȿ straße 😀", ""]).Select(Encoding.UTF8.GetBytes),
            [0xC3, 0x28, (byte)'a', 0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80, (byte)'b', 0xF0, 0x9F, 0x98]];
        foreach (var datagram in datagrams)
        {
            client.Send(datagram);
            Assert.Equal(ShoutCase.ToUpper(datagram), await ReceiveAsync(client));
        }

        Assert.Equal([0xC3, 0x28, (byte)'A', 0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80, (byte)'B', 0xF0, 0x9F, 0x98], ShoutCase.ToUpper(datagrams[^1]));
    }

    [Theory]
    [InlineData("udp://127.0.0.1:0", 65_507)]
    [InlineData("udp://[::1]:0", 65_527)]
    public async Task A_datagram_of_the_maximum_size_is_answered_whole(string listen, int size)
    {
        await using var server = await TestServer.StartAsync(listen: listen);
        using var client = Connect(server.Endpoint);
        client.Send(Enumerable.Repeat((byte)'a', size).ToArray());
        var reply = await ReceiveAsync(client);
        Assert.Equal(size, reply.Length);
        Assert.All(reply, b => Assert.Equal((byte)'A', b));
        Assert.Equal(0, server.Metrics.DatagramRepliesTruncated);
    }

    [Fact]
    public async Task A_reply_that_outgrows_the_maximum_is_cut_at_a_character_boundary_and_counted()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        using var client = Connect(server.Endpoint);

        // 32,753 × ȿ (2 bytes) = 65,506 bytes; the reply, 32,753 × Ȿ (3 bytes), would be 98,259.
        client.Send(Encoding.UTF8.GetBytes(new string('ȿ', 32_753)));
        var reply = await ReceiveAsync(client);

        Assert.Equal(65_507 / 3 * 3, reply.Length);
        Assert.Equal(new string('Ȿ', 65_507 / 3), Encoding.UTF8.GetString(reply));
        Assert.Equal(1, server.Metrics.DatagramRepliesTruncated);
    }

    [Fact]
    public async Task A_flood_from_eight_sockets_leaves_the_loop_alive_and_a_probe_is_answered()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        var target = new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port);
        var senders = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            // Nobody reads these sockets' replies: their queues overflow too, as a real flood's would.
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var datagram = Encoding.UTF8.GetBytes($"flood from socket {i}: ȿ hello");
            for (var n = 0; n < 12_500; n++)
            {
                socket.SendTo(datagram, target);
            }
        }));
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));

        using var probe = await ShoutDatagramClient.ConnectAsync(server.Endpoint,
            new ShoutClientOptions { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 20 });
        Assert.Equal("PROBE", Encoding.UTF8.GetString(await probe.RequestAsync("probe"u8.ToArray()) ?? []));
    }

    [Fact]
    public async Task Replies_to_senders_that_are_gone_do_not_stop_the_loop()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        for (var i = 0; i < 200; i++)
        {
            // Each reply meets a closed port: an ICMP port unreachable comes back to the server.
            using var gone = Connect(server.Endpoint);
            gone.Send("bye"u8.ToArray());
        }

        using var client = Connect(server.Endpoint);
        client.Send("probe"u8.ToArray());
        Assert.Equal("PROBE", Encoding.UTF8.GetString(await ReceiveAsync(client)));
    }

    [Fact]
    public async Task Stop_answers_the_datagrams_already_queued()
    {
        var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        using var client = Connect(server.Endpoint);
        client.ReceiveBufferSize = 1024 * 1024;

        // Loopback delivers a datagram inside sendto, so all of them are queued at the server on return.
        const int count = 100;
        for (var i = 0; i < count; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"m{i}"));
        }

        await server.DisposeAsync();
        var replies = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            replies.Add(Encoding.UTF8.GetString(await ReceiveAsync(client)));
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => $"M{i}").ToHashSet(), replies);
    }

    [Fact]
    public async Task Stop_drain_answers_what_the_kernel_queued_before_the_socket_closes()
    {
        // The loop is not started, so every datagram is still queued when the stop comes: only the
        // drain can answer them.
        var metrics = new ShoutMetrics(new DummyMeterFactory());
        var lifecycle = new SessionLifecycle(metrics, new ConnectionEventLog(TimeProvider.System),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SessionLifecycle>.Instance);
        var settings = new SessionSettings();
        var admission = new SessionAdmission(new SessionRules(settings), lifecycle);
        await using var responder = UdpResponder.Bind(ShoutEndpoint.Parse("udp://127.0.0.1:0"), IPAddress.Loopback,
            name => new UdpPeers(name, settings, admission, new SessionRunner(lifecycle), metrics, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
            FramedProtocol.Echo,
            metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var client = Connect(responder.Bound);
        for (var i = 0; i < 50; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"q{i}"));
        }

        await responder.StopAsync(CancellationToken.None).WaitAsync(Deadline);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"Q{i}", Encoding.UTF8.GetString(await ReceiveAsync(client)));
        }
    }

    [Fact]
    public async Task The_servers_drain_reaches_udp_sources_as_it_reaches_stream_sessions()
    {
        var metrics = new ShoutMetrics(new DummyMeterFactory());
        var events = new ConnectionEventLog(TimeProvider.System);
        var lifecycle = new SessionLifecycle(metrics, events, Microsoft.Extensions.Logging.Abstractions.NullLogger<SessionLifecycle>.Instance);
        var settings = new SessionSettings();
        var admission = new SessionAdmission(new SessionRules(settings), lifecycle);
        var drain = new DrainSignal();
        await using var responder = UdpResponder.Bind(ShoutEndpoint.Parse("udp://127.0.0.1:0"), IPAddress.Loopback,
            name => new UdpPeers(name, settings, admission, new SessionRunner(lifecycle), metrics, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
            FramedProtocol.Echo,
            metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, drain);
        responder.Start();
        Assert.Equal(1, drain.Members);
        using var client = Connect(responder.Bound);
        client.Send("before"u8.ToArray());
        Assert.Equal("BEFORE", Encoding.UTF8.GetString(await ReceiveAsync(client)));

        // The drain alone (no stop yet) ends the source's session with server_drain and takes the socket off the list.
        drain.Begin();
        await Eventually.TrueAsync(() => events.Latest().Any(e => e.Kind == ConnectionEventKind.Closed && e.Transport == "udp"),
            Deadline, () => "the UDP source's session was not closed by the drain");
        Assert.Equal(CloseReason.ServerDrain, events.Latest().Single(e => e.Kind == ConnectionEventKind.Closed).Reason);
        Assert.Equal(0, drain.Members);
        await responder.StopAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_UDP_only_server_listens_on_nothing_else()
    {
        // Kestrel with no endpoint would bind http://localhost:5000 by default.
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        var web = server.Server.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        Assert.Empty(web.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? []);
    }

    [Fact]
    public async Task A_dual_stack_listener_answers_IPv4_and_IPv6_senders()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://[::]:0");
        foreach (var host in (string[])["127.0.0.1", "[::1]"])
        {
            using var client = Connect(ShoutEndpoint.Parse($"udp://{host}:{server.Endpoint.Port}"));
            client.Send("hello"u8.ToArray());
            Assert.Equal("HELLO", Encoding.UTF8.GetString(await ReceiveAsync(client)));
        }
    }

    private static Socket Connect(ShoutEndpoint endpoint)
    {
        var address = IPAddress.Parse(endpoint.Host);
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(address, endpoint.Port));
        return socket;
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var buffer = new byte[ShoutDatagramClient.MaxDatagramSize];
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return buffer[..received];
    }

    private sealed class DummyMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
