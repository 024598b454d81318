using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Transports.ProxyProtocol;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// RELIABILITY.md row 14 over real sockets: a valid header's client address reaches the log, the
/// bytes after it are answered untouched, anything malformed, slow or untrusted is closed unanswered.
/// </summary>
public sealed class ProxyProtocolServerTests
{
    private static readonly IPEndPoint Client = IPEndPoint.Parse("203.0.113.7:51000");
    private static readonly IPEndPoint Balancer = IPEndPoint.Parse("192.0.2.1:8080");

    private sealed class Fixture : IAsyncDisposable
    {
        public required ShoutServer Server { get; init; }

        public required CapturedLog Log { get; init; }

        public ShoutEndpoint Endpoint => Server.Endpoints[0];

        public static async Task<Fixture> StartAsync(string trusted = "127.0.0.0/8", TimeProvider? clock = null, string listen = "tcp://127.0.0.1:0")
        {
            var options = new ShoutServerOptions { ProxyProtocol = true };
            options.TrustedProxies.Add(IPNetwork.Parse(trusted));
            options.Listen.Add(ShoutEndpoint.Parse(listen));
            var log = new CapturedLog();
            var server = ShoutServer.Create(options, logging => logging.AddProvider(log).SetMinimumLevel(LogLevel.Debug),
                services => services.AddSingleton(clock ?? TimeProvider.System));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.StartAsync(timeout.Token);
            return new Fixture { Server = server, Log = log };
        }

        public Task WaitForRejectionsAsync(long count) =>
            Eventually.TrueAsync(() => Server.Metrics.ProxyRejectedConnections >= count, TimeSpan.FromSeconds(15),
                () => $"{Server.Metrics.ProxyRejectedConnections} rejections; log:\n{string.Join('\n', Log.Lines)}");

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Server.StopAsync(timeout.Token);
            await Server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_valid_header_gives_the_real_client_and_the_bytes_after_it_are_answered(int version)
    {
        await using var fixture = await Fixture.StartAsync();
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        var header = version == 1 ? ProxyHeaderWriter.V1(Client, Balancer) : ProxyHeaderWriter.V2(Client, Balancer, ProxyHeaderWriter.Tlv(1, "h2"u8));

        // Header and data in one segment: the handler must still see the data, and nothing of the header.
        await socket.SendAsync(header.Concat("hello ıȿ"u8.ToArray()).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("HELLO IⱾ", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
        await Eventually.TrueAsync(() => fixture.Log.Lines.Any(l => l.Contains($"accepted from {Client}", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), () => string.Join('\n', fixture.Log.Lines));
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"PROXY v{version} header from 127.0.0.1:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_ipv4_proxy_on_a_dual_stack_listener_is_recognised_as_trusted()
    {
        // On [::] an IPv4 peer appears as ::ffff:127.0.0.1, which an IPv4 network must still contain.
        await using var fixture = await Fixture.StartAsync(listen: "tcp://[::]:0");
        using var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", fixture.Endpoint.Port));
        await socket.SendAsync(ProxyHeaderWriter.V1(Client, Balancer).Concat("dual"u8.ToArray()).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("DUAL", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
    }

    [Fact]
    public async Task A_header_sent_one_byte_at_a_time_works()
    {
        await using var fixture = await Fixture.StartAsync();
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        socket.NoDelay = true;
        foreach (var b in ProxyHeaderWriter.V2(IPEndPoint.Parse("[2001:db8::5]:4000"), IPEndPoint.Parse("[2001:db8::1]:80")))
        {
            await socket.SendAsync(new[] { b });
        }

        await socket.SendAsync("ok"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("OK", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
        Assert.Contains(fixture.Log.Lines, l => l.Contains("accepted from [2001:db8::5]:4000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_local_header_keeps_the_proxy_as_the_peer()
    {
        await using var fixture = await Fixture.StartAsync();
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        await socket.SendAsync(ProxyHeaderWriter.V2Local().Concat("ping"u8.ToArray()).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("PING", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
        Assert.Contains(fixture.Log.Lines, l => l.Contains("accepted from 127.0.0.1:", StringComparison.Ordinal));
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "no CRLF in 107 bytes", Encoding.ASCII.GetBytes("PROXY TCP4 " + new string('9', 120)) },
        { "lone LF", "PROXY TCP4 203.0.113.7 192.0.2.1 51000 8080\nhello"u8.ToArray() },
        { "no header, just data", "hello world\r\n"u8.ToArray() },
        { "bad v2 version", [.. ProxyHeaderWriter.V2(Client, Balancer)[..12], 0x31, .. ProxyHeaderWriter.V2(Client, Balancer)[13..]] },
        { "bad v2 command", [.. ProxyHeaderWriter.V2(Client, Balancer)[..12], 0x2F, .. ProxyHeaderWriter.V2(Client, Balancer)[13..]] },
        { "bad v2 family", [.. ProxyHeaderWriter.V2(Client, Balancer)[..13], 0x51, .. ProxyHeaderWriter.V2(Client, Balancer)[14..]] },
        { "TLV overrun", ProxyHeaderWriter.V2(Client, Balancer, [0x04, 0xFF, 0xFF, 1]) },
        { "truncated address", [.. ProxyHeaderWriter.V2(Client, Balancer)[..14], 0x00, 0x08, .. new byte[8]] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_header_is_closed_with_no_answer(string name, byte[] bytes)
    {
        await using var fixture = await Fixture.StartAsync();
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        await socket.SendAsync(bytes);
        Assert.True(await ClosedUnansweredAsync(socket), name);
        await fixture.WaitForRejectionsAsync(1);
        Assert.Equal(0, fixture.Server.Metrics.AcceptedConnections);
    }

    [Fact]
    public async Task A_header_that_declares_more_than_it_sends_is_closed_when_the_peer_gives_up()
    {
        await using var fixture = await Fixture.StartAsync();
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        await socket.SendAsync(ProxyHeaderWriter.V2(Client, Balancer)[..20]);
        socket.Shutdown(SocketShutdown.Send);
        Assert.True(await ClosedUnansweredAsync(socket));
        await fixture.WaitForRejectionsAsync(1);
        Assert.Contains(fixture.Log.Lines, l => l.Contains("closed after 20 bytes of a PROXY header", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_from_an_untrusted_address_is_closed_unread()
    {
        await using var fixture = await Fixture.StartAsync(trusted: "10.0.0.0/8");
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        await socket.SendAsync(ProxyHeaderWriter.V1(Client, Balancer).Concat("spoof"u8.ToArray()).ToArray());
        Assert.True(await ClosedUnansweredAsync(socket));
        await fixture.WaitForRejectionsAsync(1);
        Assert.Contains(fixture.Log.Lines, l => l.Contains("is not a trusted proxy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Silence_is_closed_at_the_header_timeout_and_not_a_tick_before()
    {
        var clock = new WatchedClock();
        await using var fixture = await Fixture.StartAsync(clock: clock);
        var timeout = new ShoutServerOptions().ProxyHeaderTimeout;

        // One connection stays silent just short of the timeout, then sends its header and is served.
        using var patient = await RawClient.ConnectAsync(fixture.Endpoint);
        await clock.WaitForTimersAsync(1);
        clock.Advance(timeout - TimeSpan.FromTicks(1));
        await patient.SendAsync(ProxyHeaderWriter.V1(Client, Balancer).Concat("late"u8.ToArray()).ToArray());
        patient.Shutdown(SocketShutdown.Send);
        Assert.Equal("LATE", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(patient)));

        // Another says nothing: at the timeout it is closed.
        using var silent = await RawClient.ConnectAsync(fixture.Endpoint);
        await clock.WaitForTimersAsync(2);
        clock.Advance(timeout);
        Assert.True(await ClosedUnansweredAsync(silent));
        await fixture.WaitForRejectionsAsync(1);
        Assert.Contains(fixture.Log.Lines, l => l.Contains("no whole PROXY header within 5 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_a_tls_endpoint_the_header_comes_before_the_handshake()
    {
        await using var fixture = await Fixture.StartAsync(listen: "tls://127.0.0.1:0");
        using var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", fixture.Endpoint.Port));
        await socket.SendAsync(ProxyHeaderWriter.V2(Client, Balancer));
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: false));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // The server's own self-signed certificate, pinned.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == fixture.Server.TlsCertificate!.GetCertHashString(),
        }, timeout.Token);
        await tls.WriteAsync("through tls"u8.ToArray(), timeout.Token);
        await tls.FlushAsync(timeout.Token);
        var reply = new byte[11];
        await tls.ReadExactlyAsync(reply, timeout.Token);
        Assert.Equal("THROUGH TLS", Encoding.UTF8.GetString(reply));
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"tls accepted from {Client}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_unix_listener_takes_headers_from_its_peers()
    {
        var dir = Repo.TempDir();
        await using var fixture = await Fixture.StartAsync(listen: $"unix://{dir}/s.sock");
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        await socket.SendAsync(ProxyHeaderWriter.V2(Client, Balancer).Concat("via unix"u8.ToArray()).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        var reply = Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket));
        Assert.True(reply == "VIA UNIX", $"'{reply}'; log:\n{string.Join('\n', fixture.Log.Lines)}");
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"accepted from {Client}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task On_an_ipv6_listener_a_header_from_a_trusted_ipv6_proxy_gives_the_real_client(int version)
    {
        // A balancer on ::1 in front of an IPv6 listener, passing an IPv6 client (TCP6 / AF_INET6).
        var client = IPEndPoint.Parse("[2001:db8::7]:51000");
        var balancer = IPEndPoint.Parse("[2001:db8::1]:8080");
        await using var fixture = await Fixture.StartAsync(trusted: "::1/128", listen: "tcp://[::1]:0");
        using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
        Assert.Equal(AddressFamily.InterNetworkV6, socket.AddressFamily);
        var header = version == 1 ? ProxyHeaderWriter.V1(client, balancer) : ProxyHeaderWriter.V2(client, balancer);
        await socket.SendAsync(header.Concat("over ipv6 ıȿ"u8.ToArray()).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("OVER IPV6 IⱾ", Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket)));
        await Eventually.TrueAsync(() => fixture.Log.Lines.Any(l => l.Contains($"accepted from {client}", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), () => string.Join('\n', fixture.Log.Lines));
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"PROXY v{version} header from [::1]:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_an_ipv6_listener_a_malformed_or_untrusted_header_is_closed_with_no_answer()
    {
        // Trusted is only an IPv4 network: the ::1 peer may not send a header, valid or not.
        await using (var untrusted = await Fixture.StartAsync(trusted: "127.0.0.0/8", listen: "tcp://[::1]:0"))
        {
            using var socket = await RawClient.ConnectAsync(untrusted.Endpoint);
            await socket.SendAsync(ProxyHeaderWriter.V1(Client, Balancer).Concat("spoof"u8.ToArray()).ToArray());
            Assert.True(await ClosedUnansweredAsync(socket));
            await untrusted.WaitForRejectionsAsync(1);
            Assert.Contains(untrusted.Log.Lines, l => l.Contains("is not a trusted proxy", StringComparison.Ordinal));
        }

        await using var fixture = await Fixture.StartAsync(trusted: "::1/128", listen: "tcp://[::1]:0");
        var count = 0;
        foreach (var row in Malformed())
        {
            var (name, bytes) = ((string)row[0], (byte[])row[1]);
            using var socket = await RawClient.ConnectAsync(fixture.Endpoint);
            await socket.SendAsync(bytes);
            Assert.True(await ClosedUnansweredAsync(socket), name);
            await fixture.WaitForRejectionsAsync(++count);
        }

        Assert.Equal(0, fixture.Server.Metrics.AcceptedConnections);
    }

    /// <summary>True when the server closes (EOF or reset) without sending a byte.</summary>
    private static async Task<bool> ClosedUnansweredAsync(Socket socket)
    {
        try
        {
            return (await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(15))).Length == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>
    /// A fake clock that counts the header timers armed (timers due after exactly the header timeout,
    /// whatever other timeouts share the clock), so the test advances it only after the server armed one.
    /// </summary>
    private sealed class WatchedClock : FakeTimeProvider
    {
        private static readonly TimeSpan HeaderTimeout = new ShoutServerOptions().ProxyHeaderTimeout;
        private int _timers;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            // One-shot timers only: the block pools' trim timers are periodic, and their period is also 5 s.
            if (dueTime == HeaderTimeout && period == Timeout.InfiniteTimeSpan)
            {
                Interlocked.Increment(ref _timers);
            }

            return timer;
        }

        public Task WaitForTimersAsync(int count) =>
            Eventually.TrueAsync(() => Volatile.Read(ref _timers) >= count, TimeSpan.FromSeconds(15), () => $"{_timers} timers armed");
    }
}
