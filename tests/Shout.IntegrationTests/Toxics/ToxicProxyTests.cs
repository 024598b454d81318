using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>shout proxy</c>: forwarding, each toxic's effect measured, and toxiproxy's API.</summary>
public sealed class ToxicProxyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Task<double> MedianRoundTripMsAsync(Socket socket, int count) => PingRoundTrips.MedianMsAsync(socket, count, Timeout);

    [Fact]
    public async Task Latency_adds_what_was_set_over_100_round_trips_to_shout_serve()
    {
        // Two proxies to the same server, one with the toxic, their round trips interleaved and
        // compared by median: the machine's load moves both alike, so what is left is the toxic.
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var plainPort = proxy.Add("plain", $"127.0.0.1:{server.Endpoint.Port}");
        var slowPort = proxy.Add("slow", $"127.0.0.1:{server.Endpoint.Port}");
        await proxy.AddToxicAsync("slow", """{"type":"latency","stream":"downstream","attributes":{"latency":50,"jitter":0}}""");
        using var plain = await ProxyFixture.ConnectAsync(plainPort);
        using var slow = await ProxyFixture.ConnectAsync(slowPort);
        var plainTimes = new List<double>();
        var slowTimes = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            plainTimes.Add(await PingRoundTrips.OnceMsAsync(plain, Timeout));
            slowTimes.Add(await PingRoundTrips.OnceMsAsync(slow, Timeout));
        }

        var added = PingRoundTrips.Median(slowTimes) - PingRoundTrips.Median(plainTimes);
        LatencyAdded.Check(added, 50, $"without the toxic {PingRoundTrips.Median(plainTimes):F2} ms");
    }

    [Fact]
    public async Task A_toxic_added_and_removed_mid_connection_changes_that_connection()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("serve", $"127.0.0.1:{server.Endpoint.Port}");
        using var socket = await ProxyFixture.ConnectAsync(port);
        var before = await MedianRoundTripMsAsync(socket, 7);
        await proxy.AddToxicAsync("serve", """{"name":"slow","type":"latency","attributes":{"latency":150}}""");
        var during = await MedianRoundTripMsAsync(socket, 7);
        using (var deleted = await proxy.Http.DeleteAsync("/proxies/serve/toxics/slow"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var after = await MedianRoundTripMsAsync(socket, 7);
        Assert.True(during >= 150, $"with the toxic {during:F1} ms");
        Assert.True(before < 100 && after < 100, $"before {before:F1} ms, after {after:F1} ms");
    }

    [Fact]
    public async Task Toxicity_0_leaves_a_connection_untouched()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("serve", $"127.0.0.1:{server.Endpoint.Port}");
        await proxy.AddToxicAsync("serve", """{"type":"latency","toxicity":0,"attributes":{"latency":300}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        var median = await MedianRoundTripMsAsync(socket, 7);
        Assert.True(median < 150, $"{median:F1} ms per round trip at the median with a toxicity 0 latency of 300 ms");
    }

    [Fact]
    public async Task Bandwidth_holds_the_rate_within_10_percent()
    {
        const int rateKb = 100;
        const int total = 300_000;
        await using var upstream = new RawUpstream(async s =>
        {
            await s.SendAsync(new byte[total], SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            await RawUpstream.ReadToEndAsync(s, Timeout);
        });
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("bw", upstream.Address);
        await proxy.AddToxicAsync("bw", $$$"""{"type":"bandwidth","attributes":{"rate":{{{rateKb}}}}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        var buffer = new byte[65536];
        long got = 0;
        long first = 0;
        var stamps = new List<string>();
        var watch = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(Timeout);
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            if (got == 0)
            {
                first = n;
                watch.Restart();
            }

            got += n;
            stamps.Add($"{watch.ElapsedMilliseconds}:{n}");
        }

        Assert.Equal(total, got);
        var rate = (got - first) / watch.Elapsed.TotalSeconds;
        Assert.True(rate >= rateKb * 1000 * 0.9 && rate <= rateKb * 1000 * 1.1,
            $"{rate:F0} bytes/s with a rate of {rateKb} KB/s; reads (ms:bytes): {string.Join(' ', stamps.Take(30))}");
    }

    [Fact]
    public async Task Slicer_cuts_segments_within_bounds()
    {
        await using var upstream = new RawUpstream(async s =>
        {
            await s.SendAsync(new byte[1000], SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            await RawUpstream.ReadToEndAsync(s, Timeout);
        });
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("slice", upstream.Address);
        await proxy.AddToxicAsync("slice", """{"type":"slicer","attributes":{"average_size":100,"size_variation":20,"delay":50000}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        var reads = new List<int>();
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(Timeout);
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            reads.Add(n);
        }

        // Pieces are 50 ms apart, so each read is normally one piece; a reader that woke late may get
        // two or more at once, so a read is accepted when it is k pieces in bounds (80k..120k bytes).
        // The last read also holds the remainder, which may be smaller.
        Assert.Equal(1000, reads.Sum());
        var described = string.Join(' ', reads);
        Assert.True(reads.Count >= 5, $"only {reads.Count} reads: {described}");
        Assert.True(reads.Count(r => r is >= 80 and <= 120) >= reads.Count / 2, $"most reads should be one piece: {described}");
        Assert.All(reads.SkipLast(1), r => Assert.True(Enumerable.Range(1, 12).Any(k => r >= 80 * k && r <= 120 * k), $"read of {r}: {described}"));
    }

    [Fact]
    public async Task Reset_peer_is_seen_by_the_client_as_a_reset()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("serve", $"127.0.0.1:{server.Endpoint.Port}");
        await proxy.AddToxicAsync("serve", """{"type":"reset_peer","stream":"upstream","attributes":{"timeout":100}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        await socket.SendAsync("hello"u8.ToArray(), SocketFlags.None);
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var buffer = new byte[64];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }

    [Fact]
    public async Task Limit_data_closes_after_exactly_N_bytes()
    {
        await using var upstream = new RawUpstream(async s =>
        {
            await s.SendAsync(new byte[100_000], SocketFlags.None);
            await RawUpstream.ReadToEndAsync(s, Timeout);
        });
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("limit", upstream.Address);
        await proxy.AddToxicAsync("limit", """{"type":"limit_data","attributes":{"bytes":12345}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        var got = await RawUpstream.ReadToEndAsync(socket, Timeout);
        Assert.Equal(12345, got.Length);
    }

    [Fact]
    public async Task Timeout_stops_forwarding_then_closes()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("serve", $"127.0.0.1:{server.Endpoint.Port}");
        await proxy.AddToxicAsync("serve", """{"type":"timeout","attributes":{"timeout":1000}}""");
        using var socket = await ProxyFixture.ConnectAsync(port);
        await socket.SendAsync("hello"u8.ToArray(), SocketFlags.None);
        var watch = Stopwatch.StartNew();
        var got = await RawUpstream.ReadToEndAsync(socket, Timeout);
        Assert.Empty(got);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(800), $"closed after {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Half_close_is_forwarded_as_half_close()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("serve", $"127.0.0.1:{server.Endpoint.Port}");
        using var socket = await ProxyFixture.ConnectAsync(port);
        await socket.SendAsync("hello, half close"u8.ToArray(), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
        var got = await RawUpstream.ReadToEndAsync(socket, Timeout);
        Assert.Equal("HELLO, HALF CLOSE", Encoding.ASCII.GetString(got));
    }

    [Fact]
    public async Task Upstream_down_resets_the_client_at_once()
    {
        int deadPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("dead", $"127.0.0.1:{deadPort}");
        var watch = Stopwatch.StartNew();
        // The reset may come before the connect call returns, or at the first read: either is a reset.
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var socket = await ProxyFixture.ConnectAsync(port);
            await RawUpstream.ReadToEndAsync(socket, Timeout);
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"reset after {watch.Elapsed}");
    }

    [Fact]
    public async Task A_client_that_stops_reading_makes_the_proxy_stop_reading_the_server()
    {
        long sent = 0;
        await using var upstream = new RawUpstream(async s =>
        {
            var chunk = new byte[65536];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                Interlocked.Add(ref sent, await s.SendAsync(chunk, SocketFlags.None, cts.Token));
            }
        });
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("stall", upstream.Address);
        using var socket = await ProxyFixture.ConnectAsync(port);
        // The client never reads. The server's sends stop once the kernel buffers and the proxy's
        // bounded queue are full: the count stops growing.
        long last = -1;
        await Eventually.TrueAsync(async () =>
        {
            var now = Interlocked.Read(ref sent);
            var stalled = now == last && now > 0;
            last = now;
            await Task.Delay(500);
            return stalled;
        }, Timeout, () => $"the server is still sending ({Interlocked.Read(ref sent)} bytes)");
        Assert.True(sent < 64L << 20, $"{sent} bytes went into a proxy whose client reads nothing");
    }
}
