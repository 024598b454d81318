using System.Net;
using Microsoft.Extensions.Logging;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Web;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY rows 6, 18 and 19 on every transport they apply to: access lists, the global and the
/// per-address connection limits. A refusal is the same everywhere: nothing the client sent is
/// answered, it is counted in <see cref="ShoutMetrics"/> and it appears as a rejected event.
/// </summary>
public sealed class AdmissionMatrixTests
{
    /// <summary>Transports with a client address (a Unix socket has none; its access is file permissions).</summary>
    public static TheoryData<string> Addressed => ["tcp4", "tcp6", "tls", "ws", "wss", "udp"];

    /// <summary>Transports with connections to limit (UDP has none; it has a per-source rate limit instead).</summary>
    public static TheoryData<string> Connected => ["tcp4", "tcp6", "unix", "tls", "ws", "wss"];

    /// <summary>Connection transports with a client address.</summary>
    public static TheoryData<string> ConnectedAddressed => ["tcp4", "tcp6", "tls", "ws", "wss"];

    [Theory]
    [MemberData(nameof(Addressed))]
    public async Task Row18_deny_refuses_before_any_read_counts_it_and_shows_a_rejected_event(string name)
    {
        var transport = MatrixTransport.Named(name);
        var logs = new LogCapture();
        await using var server = await transport.StartAsync(o => o.Access = AccessList.Create([], [transport.LoopbackNetwork]), logs);

        var refused = await Probe.RefusedAsync(transport, server, null, "let me in");
        AssertDeniedForm(transport, refused);

        await Eventually.TrueAsync(() => Denials(transport, server.Metrics.ClosedFor(CloseReason.Denied)), TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Denied)} denials counted");
        await AssertRejectedEventAsync(server, transport, CloseReason.Denied, transport.Loopback);
        Assert.True(Denials(transport, server.Metrics.RejectedConnections), $"{server.Metrics.RejectedConnections} rejections");
        Assert.Equal(0, server.Metrics.AcceptedConnections);
        Assert.Contains(server.Metrics.Snapshot(), s => transport.EventNames.Contains(s.Transport) && Denials(transport, s.Rejected));
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    [Theory]
    [MemberData(nameof(Addressed))]
    public async Task Row18_allow_serves_the_listed_address_only_and_deny_wins_over_allow(string name)
    {
        var transport = MatrixTransport.Named(name);
        var listed = transport.Sources[0];
        var prefix = listed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        await using (var server = await transport.StartAsync(o => o.Access = AccessList.Create([$"{listed}/{prefix}"], [])))
        {
            await using var served = await Probe.ServedAsync(transport, server, listed, "on the list");
            if (transport.Sources.Count > 1)
            {
                await Probe.RefusedAsync(transport, server, transport.Sources[1], "not on the list");
                await Eventually.TrueAsync(() => Denials(transport, server.Metrics.ClosedFor(CloseReason.Denied)), TimeSpan.FromSeconds(15),
                    () => $"{server.Metrics.ClosedFor(CloseReason.Denied)} denials counted");
            }
        }

        await using (var server = await transport.StartAsync(o => o.Access = AccessList.Create([transport.LoopbackNetwork], [$"{listed}/{prefix}"])))
        {
            await Probe.RefusedAsync(transport, server, listed, "allowed and denied");
            await Eventually.TrueAsync(() => Denials(transport, server.Metrics.ClosedFor(CloseReason.Denied)), TimeSpan.FromSeconds(15),
                () => $"{server.Metrics.ClosedFor(CloseReason.Denied)} denials counted");
        }
    }

    [Theory]
    [MemberData(nameof(Connected))]
    public async Task Row06_global_limit_serves_N_refuses_the_next_counts_it_and_reuses_a_freed_slot(string name)
    {
        const int limit = 3;
        var transport = MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o => o.MaxConnections = limit);
        var held = new List<MatrixClient>();
        for (var i = 0; i < limit; i++)
        {
            held.Add(await Probe.ServedAsync(transport, server, transport.HasAddress ? transport.Sources[i % transport.Sources.Count] : null, $"held {i}"));
        }

        await Probe.RefusedAsync(transport, server, null, "one too many");
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Limit) == 1, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Limit)} limit refusals counted");
        await AssertRejectedEventAsync(server, transport, CloseReason.Limit, null);

        // A freed slot is given to the next client.
        await held[0].CloseAsync();
        await held[0].ReadToEndAsync();
        await held[0].DisposeAsync();
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == limit - 1, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ActiveConnections} open");
        held[0] = await Probe.ServedAsync(transport, server, null, "the freed slot");

        foreach (var client in held)
        {
            await client.DisposeAsync();
        }

        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.Limit));
    }

    [Fact]
    public async Task Row19_a_WebSocket_counts_against_the_same_global_limit_as_TCP()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            MatrixTransport.Tcp4.Serve(o);
            MatrixTransport.Ws.Serve(o);
            o.MaxConnections = 2;
        });
        await using var tcp = await Probe.ServedAsync(MatrixTransport.Tcp4, server, null, "tcp holds one");
        await using var ws = await Probe.ServedAsync(MatrixTransport.Ws, server, null, "ws holds the other");
        await Probe.RefusedAsync(MatrixTransport.Ws, server, null, "a third over ws");
        await Probe.RefusedAsync(MatrixTransport.Tcp4, server, null, "a third over tcp");
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Limit) == 2, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Limit)} limit refusals counted");
    }

    [Theory]
    [MemberData(nameof(ConnectedAddressed))]
    public async Task Row06_per_address_limit_refuses_the_extra_from_that_address_only(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o => o.MaxConnectionsPerAddress = 2);
        var one = transport.Sources[0];
        await using var a = await Probe.ServedAsync(transport, server, one, "first");
        await using var b = await Probe.ServedAsync(transport, server, one, "second");
        await Probe.RefusedAsync(transport, server, one, "third from the same address");
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Limit) == 1, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Limit)} limit refusals counted");
        await AssertRejectedEventAsync(server, transport, CloseReason.Limit, one);
        if (transport.Sources.Count > 1)
        {
            await using var other = await Probe.ServedAsync(transport, server, transport.Sources[1], "another address");
        }
    }

    [Fact]
    public async Task Row13_19_UDP_rate_limit_per_source_drops_the_excess_counts_it_and_spares_other_sources()
    {
        const int rate = 10;
        var clock = new WatchedClock();
        await using var server = await MatrixTransport.Udp.StartAsync(o => o.UdpRatePerSource = rate, clock: clock);
        var endpoint = server.EndpointOf(Shout.Endpoints.ShoutTransport.Udp);
        await using var flooder = DatagramMatrixClient.Connect(endpoint, IPAddress.Parse("127.0.0.2"));
        await using var other = DatagramMatrixClient.Connect(endpoint, IPAddress.Parse("127.0.0.3"));

        // The clock stands still: one second's allowance at most, however fast the datagrams come.
        for (var i = 0; i < 3 * rate; i++)
        {
            await flooder.SendAsync(System.Text.Encoding.ASCII.GetBytes($"n{i}"));
        }

        // One receive loop answers in arrival order: once a later datagram from another source is
        // answered, every datagram of the burst was handled, and its replies are already queued here.
        await other.SendAsync("other"u8.ToArray());
        Assert.Equal("OTHER"u8.ToArray(), await other.ReceiveDatagramAsync());
        var answered = flooder.DrainQueued();
        Assert.InRange(answered, 1, rate);
        await Eventually.TrueAsync(() => server.Metrics.DatagramsRateLimited == 3 * rate - answered,
            TimeSpan.FromSeconds(15), () => $"{3 * rate - answered} datagrams dropped, {server.Metrics.DatagramsRateLimited} counted (shout.udp.rate_limited)");

        // A second later the source has a new allowance.
        clock.Advance(TimeSpan.FromSeconds(1));
        await flooder.SendAsync("again"u8.ToArray());
        Assert.Equal("AGAIN"u8.ToArray(), await flooder.ReceiveDatagramAsync());
    }

    [Fact]
    public async Task Row13_UDP_rate_limit_zero_means_off()
    {
        await using var server = await MatrixTransport.Udp.StartAsync(o => o.UdpRatePerSource = 0);
        await using var client = DatagramMatrixClient.Connect(server.EndpointOf(Shout.Endpoints.ShoutTransport.Udp), IPAddress.Loopback);
        for (var i = 0; i < 200; i++)
        {
            await client.SendAsync(System.Text.Encoding.ASCII.GetBytes($"m{i}"));
            Assert.Equal(System.Text.Encoding.ASCII.GetBytes($"M{i}"), await client.ReceiveDatagramAsync());
        }
    }

    /// <summary>
    /// One denial per attempt. A WebSocket client's HTTP stack retries a GET whose connection closed
    /// before any response (the web port closes a denied connection unread), so it makes a few
    /// attempts; each is a denied connection of its own.
    /// </summary>
    private static bool Denials(MatrixTransport transport, long count) => transport.IsWebSocket ? count >= 1 : count == 1;

    /// <summary>
    /// How a denial looks to the client: TCP closed with nothing sent (no busy line: nothing was
    /// read), TLS a failed handshake, WebSocket refused before the upgrade (HTTP 403, or the
    /// connection closed) or closed with 1008; UDP no answer (the probe already checked).
    /// </summary>
    private static void AssertDeniedForm(MatrixTransport transport, ProbeResult refused)
    {
        if (transport.IsWebSocket)
        {
            Assert.True(refused.Refusal!.StartsWith("HTTP 403", StringComparison.Ordinal)
                || refused.Refusal.StartsWith("upgrade failed, no HTTP response", StringComparison.Ordinal)
                || (refused.Refusal.StartsWith("TLS handshake", StringComparison.Ordinal) && transport.IsTls)
                || refused.Ending?.CloseCode == 1008, $"a denied WebSocket gets 403, no upgrade, or close code 1008; got {refused.Refusal}");
        }
        else if (transport.IsTls)
        {
            Assert.True(refused.Ending is null || refused.Ending.Data.Length == 0, $"a denied TLS client gets no handshake; got {refused.Refusal}");
        }
        else if (!transport.IsDatagram)
        {
            Assert.True(refused.Ending is { Data.Length: 0, Kind: EndKind.Closed or EndKind.Reset }, $"a denied client is closed unread; got {refused.Refusal}");
        }
    }

    private static async Task AssertRejectedEventAsync(TestServer server, MatrixTransport transport, CloseReason reason, IPAddress? from)
    {
        await Eventually.TrueAsync(() => server.Server.Services.GetEvents().Any(e => Matches(e, transport, reason, from)), TimeSpan.FromSeconds(15),
            () => $"no rejected {transport} event ({reason}); events: {string.Join("; ", server.Server.Services.GetEvents().Select(e => $"{e.Kind} {e.Transport} {e.Remote} {e.Reason}"))}");
    }

    private static bool Matches(ConnectionEvent e, MatrixTransport transport, CloseReason reason, IPAddress? from) =>
        e.Kind == ConnectionEventKind.Rejected && e.Reason == reason && transport.EventNames.Contains(e.Transport)
        && (from is null || e.Remote.Contains(from.ToString(), StringComparison.Ordinal));
}
