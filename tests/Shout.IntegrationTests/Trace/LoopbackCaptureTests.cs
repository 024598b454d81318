using System.Net.Sockets;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Shout.Client;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Trace;

namespace Shout.IntegrationTests.Trace;

/// <summary>
/// Real captures on loopback (libpcap through SharpPcap; the tests run as root) of connections the
/// test makes to an in-process server: each asserts the packets, their relative numbers and the
/// states the tutorial's 2.5/2.6 draw.
/// </summary>
public sealed class LoopbackCaptureTests
{
    [Fact]
    public async Task Handshake_data_both_ways_and_a_client_first_close()
    {
        await using var server = await TestServer.StartAsync();
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        using (var socket = await ConnectAsync(server.Endpoint.Port))
        {
            await ExchangeAsync(socket, "hello", "HELLO");
            await ExchangeAsync(socket, " world", " WORLD");
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("", await ReadToEndAsync(socket));
        }

        var (lines, summary) = await trace.WaitForConnectionAsync();
        var all = TraceAssert.Describe(lines);
        TraceAssert.Handshake(lines);
        var data = lines.Where(l => l.Length > 0).ToList();
        Assert.Equal(
            [("client", "x+1", "y+1", 5, "hello"), ("server", "y+1", "x+6", 5, "HELLO"), ("client", "x+6", "y+6", 6, " world"), ("server", "y+6", "x+12", 6, " WORLD")],
            data.Select(l => (l.From, l.Seq, l.Ack, l.Length, l.Preview)));

        var clientFin = lines.Single(l => l.From == "client" && l.Flags.Contains("FIN", StringComparison.Ordinal));
        Assert.Equal(("x+12", "FIN_WAIT_1", "CLOSE_WAIT"), (clientFin.Seq, clientFin.ClientState, clientFin.ServerState));
        var serverFin = lines.Single(l => l.From == "server" && l.Flags.Contains("FIN", StringComparison.Ordinal));
        Assert.Equal(("y+12", "TIME_WAIT", "LAST_ACK"), (serverFin.Seq, serverFin.ClientState, serverFin.ServerState));
        var last = lines[^1];
        Assert.True(last is { From: "client", Flags: "ACK", Seq: "x+13", Ack: "y+13", ServerState: "CLOSED" }, all);

        Assert.Equal(("client", "client", (string?)null), (summary.ClosedFirst, summary.TimeWait, summary.ResetBy));
        Assert.Equal((11L, 11L, 0), (summary.BytesClientToServer, summary.BytesServerToClient, summary.Retransmissions));
        Assert.NotNull(summary.HandshakeRttMs);
        Assert.Equal(lines.Count, summary.Packets);
    }

    [Fact]
    public async Task A_server_first_close_on_the_idle_timeout_leaves_the_server_in_TIME_WAIT()
    {
        await using var server = await TestServer.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(1));
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        using (var socket = await ConnectAsync(server.Endpoint.Port))
        {
            // Nothing sent: the server times out, sends its FIN; the client reads the end and closes too.
            await ReadToEndAsync(socket);
        }

        var (lines, summary) = await trace.WaitForConnectionAsync();
        var all = TraceAssert.Describe(lines);
        TraceAssert.Handshake(lines);
        var fins = lines.Where(l => l.Flags.Contains("FIN", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, fins.Count);
        Assert.True(fins[0] is { From: "server", Seq: "y+1", ServerState: "FIN_WAIT_1", ClientState: "CLOSE_WAIT" }, all);
        Assert.True(fins[1] is { From: "client", ClientState: "LAST_ACK", ServerState: "TIME_WAIT" }, all);
        Assert.True(lines[^1] is { From: "server", Flags: "ACK", ClientState: "CLOSED" }, all);
        Assert.Equal(("server", "server"), (summary.ClosedFirst, summary.TimeWait));
    }

    [Fact]
    public async Task A_half_closed_client_receives_the_reply_in_FIN_WAIT_2()
    {
        // Line mode answers an unfinished line only once the client's FIN says no newline will come.
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line);
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        using (var socket = await ConnectAsync(server.Endpoint.Port))
        {
            await socket.SendAsync("last words"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("LAST WORDS", await ReadToEndAsync(socket));
        }

        var (lines, summary) = await trace.WaitForConnectionAsync();
        var all = TraceAssert.Describe(lines);
        var fin = lines.FindIndex(l => l.From == "client" && l.Flags.Contains("FIN", StringComparison.Ordinal));
        var reply = lines.FindIndex(l => l.From == "server" && l.Length > 0);
        Assert.True(fin >= 0 && reply > fin, all);
        Assert.True(lines[fin] is { Seq: "x+11", ClientState: "FIN_WAIT_1", ServerState: "CLOSE_WAIT" }, all);

        // The client is half-closed (FIN_WAIT_2) by the time, or at the moment, the reply arrives.
        var halfClosed = lines.FindIndex(l => l.ClientState == "FIN_WAIT_2");
        Assert.True(halfClosed > fin && halfClosed <= reply, all);
        Assert.True(lines[reply] is { Seq: "y+1", Ack: "x+12", Length: 10, Preview: "LAST WORDS" }, all);
        Assert.Equal(("client", "client", 10L, 10L), (summary.ClosedFirst, summary.TimeWait, summary.BytesClientToServer, summary.BytesServerToClient));
    }

    [Fact]
    public async Task A_reset_with_linger_zero_closes_both_sides_at_once()
    {
        await using var server = await TestServer.StartAsync();
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        using (var socket = await ConnectAsync(server.Endpoint.Port))
        {
            await ExchangeAsync(socket, "bye", "BYE");
            socket.LingerState = new LingerOption(true, 0);
        }

        var (lines, summary) = await trace.WaitForConnectionAsync();
        var all = TraceAssert.Describe(lines);
        TraceAssert.Handshake(lines);
        Assert.DoesNotContain(lines, l => l.Flags.Contains("FIN", StringComparison.Ordinal));
        Assert.True(lines[^1] is { From: "client", Seq: "x+4", ClientState: "CLOSED", ServerState: "CLOSED" } && lines[^1].Flags.StartsWith("RST", StringComparison.Ordinal), all);
        Assert.Equal(("client", "client", (string?)null), (summary.ResetBy, summary.ClosedFirst, summary.TimeWait));
        Assert.Equal((3L, 3L), (summary.BytesClientToServer, summary.BytesServerToClient));
    }

    [Fact]
    public async Task Tls_handshake_bytes_are_counted_and_no_payload_is_shown()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        var pin = CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256)));
        await using (var connection = await ShoutConnection.ConnectAsync(server.Endpoint, new ShoutClientOptions { Pin = pin }))
        {
            await connection.Stream.WriteAsync("secret words"u8.ToArray());
            await connection.HalfCloseAsync();
            using var reply = new MemoryStream();
            await connection.Stream.CopyToAsync(reply);
            Assert.Equal("SECRET WORDS", Encoding.ASCII.GetString(reply.ToArray()));
        }

        var (lines, summary) = await trace.WaitForConnectionAsync();
        var all = TraceAssert.Describe(lines);
        TraceAssert.Handshake(lines);
        Assert.Equal("TLS handshake", TraceAssert.Data(lines, "client").Preview);
        Assert.Equal("TLS handshake", TraceAssert.Data(lines, "server").Preview);
        Assert.All(lines.Where(l => l.Length > 0), l => Assert.StartsWith("TLS", l.Preview, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Preview?.Contains("secret", StringComparison.OrdinalIgnoreCase) == true);
        Assert.Contains(lines, l => l.Preview == "TLS application data");

        // The handshake's records (hello, certificate, keys) are counted with the 12 bytes each way.
        Assert.True(summary.BytesClientToServer > 200 && summary.BytesServerToClient > 400, all);
        Assert.Equal(lines.Where(l => l.From == "client" && !l.Retransmission).Sum(l => (long)l.Length), summary.BytesClientToServer);
    }

    [Fact]
    public async Task Udp_datagrams_are_one_line_each()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        using var trace = LoopbackTrace.Start(server.Endpoint.Port);
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendAsync("one datagram"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await client.ReceiveAsync(timeout.Token);
        Assert.Equal("ONE DATAGRAM", Encoding.ASCII.GetString(reply.Buffer));

        var records = await trace.WaitForAsync(r => r.OfType<TraceDatagramLine>().Count() >= 2);
        var datagrams = records.OfType<TraceDatagramLine>().ToList();
        Assert.Equal([("client", 12, "one datagram"), ("server", 12, "ONE DATAGRAM")], datagrams.Select(d => (d.From, d.Length, d.Preview)));
        Assert.Equal(client.Client.LocalEndPoint!.ToString(), datagrams[0].Client);
        Assert.DoesNotContain(records, r => r is TracePacketLine or TraceSummary);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return socket;
    }

    private static async Task ExchangeAsync(Socket socket, string send, string expected)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(send));
        var reply = new byte[expected.Length];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = 0;
        while (read < reply.Length)
        {
            var n = await socket.ReceiveAsync(reply.AsMemory(read), timeout.Token);
            Assert.True(n > 0, "the server closed before answering");
            read += n;
        }

        Assert.Equal(expected, Encoding.ASCII.GetString(reply));
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, timeout.Token) is var n and > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }
}
