using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>shout serve --toxic</c>: toxics in front of the server's own listeners, from a flag, SHOUT_TOXIC or the config file.</summary>
public sealed partial class ServeToxicTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_toxic_latency_adds_what_was_set_over_100_round_trips_and_the_server_sees_the_real_client()
    {
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--toxic", "latency:downstream:latency=50", "-v");
        var output = await serve.WaitForOutputAsync(o => ToxicLine().IsMatch(o), Timeout);
        var line = ToxicLine().Match(output);
        Assert.Equal("latency_downstream", line.Groups[2].Value);
        var publicPort = int.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture);
        var internalPort = int.Parse(line.Groups[3].Value, CultureInfo.InvariantCulture);

        // Round trips through the toxic and straight to the server's internal listener (which takes
        // only connections that open with a PROXY header) interleaved and compared by median: the
        // machine's load moves both alike, so what is left is the toxic.
        using var slow = await ProxyFixture.ConnectAsync(publicPort);
        using var plain = await ProxyFixture.ConnectAsync(internalPort);
        await plain.SendAsync("PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n"u8.ToArray(), SocketFlags.None);
        var slowTimes = new List<double>();
        var plainTimes = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            plainTimes.Add(await PingRoundTrips.OnceMsAsync(plain, Timeout));
            slowTimes.Add(await PingRoundTrips.OnceMsAsync(slow, Timeout));
        }

        var added = PingRoundTrips.Median(slowTimes) - PingRoundTrips.Median(plainTimes);
        log.WriteLine($"serve --toxic latency 50 ms: added {added:F2} ms at the median of 100 round trips (straight {PingRoundTrips.Median(plainTimes):F2} ms)");
        LatencyAdded.Check(added, 50, $"straight to the server {PingRoundTrips.Median(plainTimes):F2} ms");

        // The PROXY header carried the client's own address and port to the server's log.
        var client = (IPEndPoint)slow.LocalEndPoint!;
        await serve.WaitForOutputAsync(o => o.Contains($"tcp accepted from 127.0.0.1:{client.Port}", StringComparison.Ordinal), Timeout);
        serve.Signal(15);
        Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Serve_toxics_from_SHOUT_TOXIC_and_the_config_file_act_on_tcp_and_unix_listeners()
    {
        var dir = Repo.TempDir();
        var path = Path.Combine(dir, "serve.sock");
        var config = Path.Combine(dir, "shout.json");
        await File.WriteAllTextAsync(config, """{"Shout": {"Toxic": ["latency::latency=300,name=slow"]}}""");
        await using (var serve = ProcessHarness.StartShout("serve", "--config", config, "-l", "tcp://127.0.0.1:0", "-l", $"unix://{path}"))
        {
            var output = await serve.WaitForOutputAsync(o => o.Contains($"unix://{path} through slow", StringComparison.Ordinal), Timeout);
            var port = int.Parse(ToxicLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var watch = Stopwatch.StartNew();
            Assert.Equal("HELLO", await SendAsync(new IPEndPoint(IPAddress.Loopback, port), "hello"));
            Assert.True(watch.ElapsedMilliseconds >= 290, $"{watch.ElapsedMilliseconds} ms over tcp with a 300 ms latency");
            watch.Restart();
            Assert.Equal("OVER UNIX", await SendAsync(new UnixDomainSocketEndPoint(path), "over unix"));
            Assert.True(watch.ElapsedMilliseconds >= 290, $"{watch.ElapsedMilliseconds} ms over unix with a 300 ms latency");
            serve.Signal(15);
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
        }

        Assert.False(File.Exists(path), "the public unix socket file is removed at exit");

        // SHOUT_TOXIC takes a list separated by ';' (a toxic's attributes use commas) and wins over the file.
        var environment = new Dictionary<string, string> { ["SHOUT_TOXIC"] = "latency:downstream:latency=10,jitter=1;bandwidth:upstream:rate=64" };
        await using var withEnv = ProcessHarness.Start("dotnet", [Repo.CliDll, "serve", "--config", config, "-l", "tcp://127.0.0.1:0", "--web", "none"],
            environment: environment);
        await withEnv.WaitForOutputAsync(o => o.Contains("through latency_downstream, bandwidth_upstream", StringComparison.Ordinal), Timeout);
        withEnv.Signal(15);
        Assert.Equal(0, await withEnv.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Serve_toxics_act_on_tls_records_and_on_an_ipv6_listener_with_the_real_client_seen()
    {
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tls://127.0.0.1:0", "-l", "tcp://[::1]:0",
            "--toxic", "latency:downstream:latency=200", "-v");
        var output = await serve.WaitForOutputAsync(o => o.Contains("shout: tcp://[::1]:", StringComparison.Ordinal), Timeout);
        var tlsPort = int.Parse(TlsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var v6Port = int.Parse(V6Line().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var fingerprint = Fingerprint().Match(output).Groups[1].Value;

        // TLS passes through to the server: its certificate, pinned by the fingerprint it printed; the toxic delays its records.
        using (var socket = await ProxyFixture.ConnectAsync(tlsPort))
        await using (var tls = new SslStream(new NetworkStream(socket, ownsSocket: false)))
        {
            using var cts = new CancellationTokenSource(Timeout);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null
                    && string.Join(':', certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).Select(b => b.ToString("X2", CultureInfo.InvariantCulture))) == fingerprint,
            }, cts.Token);
            var watch = Stopwatch.StartNew();
            await tls.WriteAsync("over tls"u8.ToArray(), cts.Token);
            var reply = new byte[8];
            await tls.ReadExactlyAsync(reply, cts.Token);
            Assert.Equal("OVER TLS", Encoding.ASCII.GetString(reply));
            Assert.True(watch.ElapsedMilliseconds >= 190, $"{watch.ElapsedMilliseconds} ms over tls with a 200 ms latency");
        }

        using (var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true })
        {
            await v6.ConnectAsync(IPAddress.IPv6Loopback, v6Port);
            var watch = Stopwatch.StartNew();
            await v6.SendAsync("over six"u8.ToArray(), SocketFlags.None);
            v6.Shutdown(SocketShutdown.Send);
            Assert.Equal("OVER SIX", Encoding.ASCII.GetString(await RawUpstream.ReadToEndAsync(v6, Timeout)));
            Assert.True(watch.ElapsedMilliseconds >= 190, $"{watch.ElapsedMilliseconds} ms over tcp6 with a 200 ms latency");
            var client = (IPEndPoint)v6.LocalEndPoint!;
            await serve.WaitForOutputAsync(o => o.Contains($"tcp accepted from [::1]:{client.Port}", StringComparison.Ordinal), Timeout);
        }

        serve.Signal(15);
        Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task During_the_drain_the_toxics_listener_refuses_new_connections_while_open_ones_go_on()
    {
        // As Row08SecondSignalTests: a client that never reads keeps the drain busy, once the server
        // says a reply waits for it; then a new connection to the public address must be refused.
        await using var served = await Shout.IntegrationTests.Matrix.ServedProcess.StartAsync(Shout.IntegrationTests.Matrix.MatrixTransport.Tcp4, verbose: false,
            ["--toxic", "latency:downstream:latency=1", "--shutdown-timeout", "60s", "--write-timeout", "10m", "--web", "http://127.0.0.1:0"]);
        var server = served.Process;
        var output = await server.WaitForOutputAsync(o => ToxicLine().IsMatch(o), Timeout);
        var publicPort = int.Parse(ToxicLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        using var stuck = await ProxyFixture.ConnectAsync(publicPort);
        stuck.ReceiveBufferSize = 4096;
        var flood = FloodAsync(stuck);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () => flood.IsCompleted || await served.MetricAsync(http, "connections_write_waiting") >= 1,
            TimeSpan.FromSeconds(60), () => "the server never reported a reply waiting for the client that does not read");
        Assert.False(flood.IsCompleted, "the flood ended: the connection closed before the drain");

        server.Signal(15);
        await server.WaitForLineAsync("Shout draining", Timeout);
        await Eventually.TrueAsync(() => Refused(publicPort), TimeSpan.FromSeconds(15), () => "the toxics' listener still accepts during the drain");
        Assert.False(flood.IsCompleted, "the open connection was cut at the drain's start");
        server.Signal(15);
        Assert.Equal(130, await server.WaitForExitAsync(Timeout));
    }

    private static bool Refused(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    private static async Task FloodAsync(Socket socket)
    {
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        try
        {
            while (true)
            {
                await socket.SendAsync(chunk);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection ended: the test looks at when.
        }
    }

    [Theory]
    [InlineData("latency:downstream:latency=-5", "shout serve: --toxic: 'latency:downstream:latency=-5': latency latency -5 is out of range (0..3600000)")]
    [InlineData("latency:sideways", "shout serve: --toxic: 'latency:sideways': stream 'sideways' is neither upstream nor downstream")]
    [InlineData("latncy", "shout serve: --toxic: 'latncy': invalid toxic type 'latncy'")]
    [InlineData("loss:upstream:toxicity=0.1", "shout serve: --toxic: 'loss:upstream:toxicity=0.1': loss acts on datagrams")]
    public async Task A_bad_serve_toxic_is_one_line_and_exit_2(string toxic, string start)
    {
        var result = await CliRunner.ShoutAsync(["serve", "-l", "tcp://127.0.0.1:0", "--toxic", toxic], timeout: Timeout);
        Assert.Equal(2, result.ExitCode);
        // One line naming what was wrong, then the usual pointer to --help; never a stack trace.
        var lines = result.Stderr.Trim().Split('\n');
        Assert.StartsWith(start, lines[0], StringComparison.Ordinal);
        Assert.Equal(["Try 'shout serve --help' for more information."], lines[1..]);
    }

    [Fact]
    public async Task Serve_toxics_refused_where_they_cannot_act_and_from_a_bad_SHOUT_TOXIC()
    {
        var udpOnly = await CliRunner.ShoutAsync(["serve", "-l", "udp://127.0.0.1:0", "--toxic", "latency"], timeout: Timeout);
        Assert.Equal(2, udpOnly.ExitCode);
        Assert.Equal("shout: --toxic acts on tcp, tls and unix listeners; give one with --listen (for udp: shout proxy -l udp://…)", udpOnly.Stderr.Trim());

        var withProxyProtocol = await CliRunner.ShoutAsync(
            ["serve", "-l", "tcp://127.0.0.1:0", "--toxic", "latency", "--proxy-protocol", "--trusted-proxy", "10.0.0.0/8"], timeout: Timeout);
        Assert.Equal(2, withProxyProtocol.ExitCode);
        Assert.Equal("shout: --toxic cannot be combined with --proxy-protocol", withProxyProtocol.Stderr.Trim());

        var twice = await CliRunner.ShoutAsync(["serve", "-l", "tcp://127.0.0.1:0", "--toxic", "latency", "--toxic", "latency:downstream:latency=5"], timeout: Timeout);
        Assert.Equal(2, twice.ExitCode);
        Assert.Equal("shout: --toxic: two toxics are named 'latency_downstream'; give one name=…", twice.Stderr.Trim());

        var badEnv = await CliRunner.ShoutAsync(["serve", "-l", "tcp://127.0.0.1:0"], timeout: Timeout,
            environment: new Dictionary<string, string> { ["SHOUT_TOXIC"] = "latency;bandwidth:upstream:rate=-1" });
        Assert.Equal(2, badEnv.ExitCode);
        Assert.Equal("shout: SHOUT_TOXIC: 'bandwidth:upstream:rate=-1': bandwidth rate -1 is out of range (0..10000000)", badEnv.Stderr.Trim());
    }


    private static async Task<string> SendAsync(EndPoint endPoint, string text)
    {
        using var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
        return Encoding.ASCII.GetString(await RawUpstream.ReadToEndAsync(socket, Timeout));
    }

    [GeneratedRegex(@"shout: tls://127\.0\.0\.1:(\d+) through")]
    private static partial Regex TlsLine();

    [GeneratedRegex(@"shout: tcp://\[::1\]:(\d+) through")]
    private static partial Regex V6Line();

    [GeneratedRegex(@"SHA-256 fingerprint ([0-9A-F:]+)")]
    private static partial Regex Fingerprint();

    [GeneratedRegex(@"shout: tcp://127\.0\.0\.1:(\d+) through (\S+) \(served on tcp://127\.0\.0\.1:(\d+)\)")]
    private static partial Regex ToxicLine();
}
