using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// The udp proxy: datagrams per client source, and the datagram toxics measured at the far end.
/// Senders are paced by what arrived (<see cref="UdpSink.SendPacedAsync"/>) so that the kernel
/// drops nothing and every datagram missing or doubled is the toxic's doing.
/// </summary>
public sealed class DatagramProxyTests
{
    private const int Datagrams = 10_000;

    [Fact]
    public async Task Loss_drops_its_share_of_10000_datagrams_and_the_same_seed_drops_the_same_ones()
    {
        var first = await LostAsync();
        // Expected 1,000 (toxicity 0.1); one standard deviation is 30, so ±150 is 5 of them.
        Assert.InRange(first.Count, 850, 1150);
        var second = await LostAsync();
        Assert.Equal(first, second);
    }

    private static async Task<SortedSet<int>> LostAsync()
    {
        using var sink = new UdpSink(echo: false);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.AddUdp("u", sink.Address);
        await proxy.AddToxicAsync("u", """{"name":"drop","type":"loss","stream":"upstream","toxicity":0.1}""");
        using var client = UdpSink.Client(port);
        await sink.SendPacedAsync(client, 0, Datagrams);
        await SendSentinelAsync(sink, client);

        var order = sink.Order.Where(s => s < Datagrams).ToArray();
        Assert.Equal(order.Length, order.Distinct().Count());
        return [.. Enumerable.Range(0, Datagrams).Except(order)];
    }

    /// <summary>
    /// Sends datagrams past the last one, through the toxic, until one arrives: the proxy forwards a
    /// flow's datagrams in order, so by then every earlier one was decided, and every one that was
    /// going to arrive has. (Removing the toxic first let the last in flight through undecided.)
    /// </summary>
    private static async Task SendSentinelAsync(UdpSink sink, Socket client)
    {
        await sink.SendPacedAsync(client, Datagrams, Datagrams + 64);
        await sink.WaitUntilAsync(s => s.Highest >= Datagrams, TimeSpan.FromSeconds(30), "a datagram after the last");
    }

    [Fact]
    public async Task Duplicate_copies_its_share_of_10000_datagrams()
    {
        using var sink = new UdpSink(echo: false);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.AddUdp("u", sink.Address);
        await proxy.AddToxicAsync("u", """{"name":"twice","type":"duplicate","stream":"upstream","toxicity":0.1}""");
        using var client = UdpSink.Client(port);
        await sink.SendPacedAsync(client, 0, Datagrams);
        await SendSentinelAsync(sink, client);

        var order = sink.Order.Where(s => s < Datagrams).ToArray();
        Assert.Equal(Datagrams, order.Distinct().Count());
        Assert.InRange(order.Length - Datagrams, 850, 1150);
        Assert.True(order.GroupBy(s => s).All(g => g.Count() <= 2), "a datagram came more than twice");
    }

    [Fact]
    public async Task Reorder_holds_datagrams_back_while_later_ones_pass_and_loses_none()
    {
        const int count = 1000;
        using var sink = new UdpSink(echo: false);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.AddUdp("u", sink.Address);
        await proxy.AddToxicAsync("u", """{"name":"shuffle","type":"reorder","stream":"upstream","toxicity":0.1,"attributes":{"delay":20}}""");
        using var client = UdpSink.Client(port);
        await sink.SendPacedAsync(client, 0, count);
        await sink.WaitUntilAsync(s => s.Order.Length == count, TimeSpan.FromSeconds(30), $"all {count} datagrams");

        var order = sink.Order;
        Assert.Equal(Enumerable.Range(0, count), order.Order());
        // A datagram is late when one sent after it arrived before it. Expected 100 (toxicity 0.1;
        // the sender sends the next while one is held 20 ms); one standard deviation is 9.5.
        var late = 0;
        var highest = -1;
        foreach (var seq in order)
        {
            late += seq < highest ? 1 : 0;
            highest = Math.Max(highest, seq);
        }

        Assert.InRange(late, 50, 150);
    }

    [Fact]
    public async Task Latency_adds_what_was_set_to_datagrams_over_100_round_trips()
    {
        // Two proxies to the same echo server, one with the toxic, round trips interleaved and
        // compared by median, as for streams: the machine's load moves both alike.
        using var sink = new UdpSink(echo: true);
        await using var proxy = await ProxyFixture.StartAsync();
        var plainPort = proxy.AddUdp("plain", sink.Address);
        var slowPort = proxy.AddUdp("slow", sink.Address);
        await proxy.AddToxicAsync("slow", """{"type":"latency","stream":"upstream","attributes":{"latency":50,"jitter":0}}""");
        using var plain = UdpSink.Client(plainPort);
        using var slow = UdpSink.Client(slowPort);
        var plainTimes = new List<double>();
        var slowTimes = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            plainTimes.Add(await RoundTripMsAsync(plain, i));
            slowTimes.Add(await RoundTripMsAsync(slow, i));
        }

        var added = Median(slowTimes) - Median(plainTimes);
        LatencyAdded.Check(added, 50, $"without the toxic {Median(plainTimes):F2} ms");
    }

    private static async Task<double> RoundTripMsAsync(Socket socket, int seq)
    {
        var datagram = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(datagram, seq);
        var watch = Stopwatch.StartNew();
        await socket.SendAsync(datagram, SocketFlags.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64];
        int n;
        do
        {
            n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        }
        while (n < 4 || BinaryPrimitives.ReadInt32BigEndian(buffer) != seq);

        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    [Fact]
    public async Task Each_client_source_gets_its_own_upstream_socket_which_expires_when_idle()
    {
        using var sink = new UdpSink(echo: true);
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Server.Proxies.DatagramIdle = TimeSpan.FromMilliseconds(300);
        var port = proxy.AddUdp("u", sink.Address);
        var udp = proxy.Server.Proxies.Get("u");
        using var a = UdpSink.Client(port);
        using var b = UdpSink.Client(port);
        await RoundTripMsAsync(a, 1);
        await RoundTripMsAsync(b, 2);
        await RoundTripMsAsync(a, 3);
        var sources = sink.Sources;
        Assert.Equal(sources[0], sources[2]);
        Assert.NotEqual(sources[0], sources[1]);
        Assert.Equal(2, udp.OpenConnections);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (udp.OpenConnections > 0)
        {
            await Task.Delay(50, cts.Token);
        }

        await RoundTripMsAsync(a, 4);
        Assert.NotEqual(sources[0], sink.Sources[3]);
        Assert.Equal(1, udp.OpenConnections);
    }

    [Fact]
    public async Task Bad_datagram_toxics_get_400_with_one_line_and_change_nothing()
    {
        using var sink = new UdpSink(echo: false);
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.AddUdp("u", sink.Address);
        proxy.Add("t", "127.0.0.1:9");
        (string Proxy, string Body, string Reason)[] bad =
        [
            ("u", """{"type":"loss","toxicity":1.5}""", "toxicity 1.5 is out of range"),
            ("u", """{"type":"loss","toxicity":-0.1}""", "toxicity -0.1 is out of range"),
            ("u", """{"type":"reorder","attributes":{"delay":-1}}""", "reorder delay -1 is out of range"),
            ("u", """{"type":"duplicate","attributes":{"copies":3}}""", "unknown attribute 'copies' for duplicate"),
            ("u", """{"type":"slicer","attributes":{"average_size":10}}""", "slicer acts on streams; a udp proxy takes"),
            ("u", """{"type":"los"}""", "invalid toxic type 'los'"),
            ("t", """{"type":"loss","toxicity":0.5}""", "loss acts on datagrams; it needs a udp proxy"),
        ];
        foreach (var (name, body, reason) in bad)
        {
            using var response = await proxy.PostAsync($"/proxies/{name}/toxics", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.GetProperty("error").GetString()!;
            Assert.Contains(reason, error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
        }

        Assert.Equal("[]", (await proxy.Http.GetStringAsync("/proxies/u/toxics")).Trim());
        Assert.Equal("[]", (await proxy.Http.GetStringAsync("/proxies/t/toxics")).Trim());

        using var mixed = await proxy.PostAsync("/proxies", $$"""{"name":"m","listen":"udp://127.0.0.1:0","upstream":"127.0.0.1:9"}""");
        Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
        Assert.Contains("a udp proxy forwards to udp", await mixed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var missing = await proxy.Http.GetAsync("/proxies/m");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Shout_proxy_forwards_udp_to_shout_serve_and_refuses_a_stream_toxic_on_it()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        await using (var command = ProcessHarness.StartShout("proxy", "-l", "udp://127.0.0.1:0", "--to", $"udp://127.0.0.1:{server.Endpoint.Port}",
            "--api", "none", "--toxic", "latency:downstream:latency=50"))
        {
            var output = await command.WaitForOutputAsync(o => o.Contains("no API", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            var match = System.Text.RegularExpressions.Regex.Match(output, @"listening on udp://127\.0\.0\.1:(\d+)");
            Assert.True(match.Success, output);
            using var client = UdpSink.Client(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            var watch = Stopwatch.StartNew();
            await client.SendAsync("hello\n"u8.ToArray(), SocketFlags.None);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var buffer = new byte[64];
            var n = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.StartsWith("HELLO", System.Text.Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
            Assert.True(watch.ElapsedMilliseconds >= 45, $"{watch.ElapsedMilliseconds} ms with a 50 ms latency");
            command.Signal(15);
            Assert.Equal(0, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        var refused = await CliRunner.ShoutAsync(["proxy", "-l", "udp://127.0.0.1:0", "--to", $"udp://127.0.0.1:{server.Endpoint.Port}",
            "--api", "none", "--toxic", "slicer:downstream:average_size=10"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("shout proxy: --toxic slicer: slicer acts on streams", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);

        var mixed = await CliRunner.ShoutAsync(["proxy", "-l", "udp://127.0.0.1:0", "--to", "tcp://127.0.0.1:9"]);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("a udp proxy forwards to udp", mixed.Stderr, StringComparison.Ordinal);
    }
}
