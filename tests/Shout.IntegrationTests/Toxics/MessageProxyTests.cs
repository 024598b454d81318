using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using Shout.IntegrationTests.WebSocketClient;
using Shout.Toxics;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>shout proxy</c> with ws:// on both sides: messages forwarded as messages, each toxic acting on them.</summary>
public sealed class MessageProxyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static int AddWs(ProxyFixture proxy, string name, string listen, string upstream)
    {
        Assert.True(ProxyAddress.TryParse(listen, out var from, out var error), error);
        Assert.True(ProxyAddress.TryParse(upstream, out var to, out error), error);
        return proxy.Server.Proxies.Add(new ProxyInput(name, from!, to!, true)).Listen.Endpoint.Port;
    }

    private static async Task<ClientWebSocket> ConnectAsync(int port, string path = "/ws")
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}{path}"), timeout.Token);
        return socket;
    }

    private static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    [Fact]
    public async Task Messages_cross_a_ws_proxy_to_shout_serve_as_messages_and_the_api_lists_it()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "ws", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        using var socket = await ConnectAsync(port);

        await SendTextAsync(socket, "hello through the proxy");
        Assert.Equal("HELLO THROUGH THE PROXY", await socket.ReceiveTextAsync());
        byte[] binary = [(byte)'a', 0xFF, 0x00, (byte)'z'];
        await socket.SendAsync(binary, WebSocketMessageType.Binary, true, CancellationToken.None);
        var (type, data) = await socket.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[] { (byte)'A', 0xFF, 0x00, (byte)'Z' }, data);

        // toxiproxy's JSON: listen and upstream as the proxy takes them, with the port chosen.
        using var listed = JsonDocument.Parse(await proxy.Http.GetStringAsync("/proxies/ws"));
        Assert.Equal($"ws://127.0.0.1:{port}/ws", listed.RootElement.GetProperty("listen").GetString());
        Assert.Equal(server.WebSocketUri().ToString().TrimEnd('/'), listed.RootElement.GetProperty("upstream").GetString());

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task A_ws_proxy_from_the_command_line_and_one_created_through_the_api()
    {
        await using var server = await WebServer.StartAsync();
        await using var command = ProcessHarness.StartShout("proxy", "-l", "ws://127.0.0.1:0/ws", "--to", server.WebSocketUri().ToString(), "--api", "127.0.0.1:0",
            "--toxic", "latency:downstream:latency=50");
        var output = await command.WaitForOutputAsync(o => o.Contains("API on http://", StringComparison.Ordinal), Timeout);
        var match = System.Text.RegularExpressions.Regex.Match(output, @"shout listening on ws://127\.0\.0\.1:(\d+)/ws, forwarding to ws://127\.0\.0\.1:\d+/ws through latency_downstream");
        Assert.True(match.Success, output);
        var reply = await CliRunner.ShoutAsync(["send", "-a", $"ws://127.0.0.1:{match.Groups[1].Value}/ws", "hello"], timeout: Timeout);
        Assert.Equal("HELLO\n", reply.StdoutText);

        using var http = new HttpClient { BaseAddress = new Uri(System.Text.RegularExpressions.Regex.Match(output, @"API on (http://\S+)").Groups[1].Value) };
        using var created = await http.PostAsync("/proxies", new StringContent(
            $$"""{"name":"api","listen":"ws://127.0.0.1:0/","upstream":"{{server.WebSocketUri().ToString().TrimEnd('/').Replace("/ws", "", StringComparison.Ordinal)}}/"}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var listen = body.RootElement.GetProperty("listen").GetString()!;
        Assert.Matches(@"^ws://127\.0\.0\.1:\d+/$", listen);
        var viaApi = await CliRunner.ShoutAsync(["send", "-a", listen + "ws", "through the api"], timeout: Timeout);
        Assert.Equal("THROUGH THE API\n", viaApi.StdoutText);
        command.Signal(15);
        Assert.Equal(0, await command.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Wss_on_both_sides_the_proxys_certificate_to_the_client_and_the_upstreams_checked_against_upstream_ca()
    {
        await using var server = await WebServer.StartAsync(web => web.Address = new Uri("https://127.0.0.1:0"));
        await using var proxy = await ProxyFixture.StartAsync();
        var upstream = new UriBuilder(server.Web()) { Scheme = "wss", Path = "/ws" }.Uri.ToString();
        var untrusted = AddWs(proxy, "untrusted", "ws://127.0.0.1:0/ws", upstream); // the system's roots: a self-signed upstream is not trusted
        proxy.Server.Proxies.Tls = new ProxyTls(upstreamTrust: [X509CertificateLoader.LoadCertificate(server.Server.TlsCertificate!.RawData)]);
        var port = AddWs(proxy, "wss", "wss://127.0.0.1:0/ws", upstream);

        var pinned = proxy.Server.Proxies.Tls.Certificate;
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned.GetCertHashString();
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/ws"), new CancellationTokenSource(Timeout).Token);
        await SendTextAsync(socket, "over tls twice");
        Assert.Equal("OVER TLS TWICE", await socket.ReceiveTextAsync());

        // An upstream whose certificate is not trusted: the client's handshake is refused.
        using var refused = new ClientWebSocket();
        refused.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(async () =>
            await refused.ConnectAsync(new Uri($"ws://127.0.0.1:{untrusted}/ws"), new CancellationTokenSource(Timeout).Token));
        Assert.Equal(HttpStatusCode.BadGateway, refused.HttpStatusCode);
    }

    [Fact]
    public async Task Close_frames_cross_both_ways_with_their_code_and_reason_and_the_path_past_the_listen_path_goes_upstream()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "ws", "ws://127.0.0.1:0/", $"ws://127.0.0.1:{peer.Port}/");

        // The client's close reaches the peer, which answers with the same code and reason.
        using (var socket = await ConnectAsync(port, "/upper"))
        {
            await SendTextAsync(socket, "abc");
            Assert.Equal("ABC", await socket.ReceiveTextAsync());
            using var cts = new CancellationTokenSource(Timeout);
            await socket.CloseAsync((WebSocketCloseStatus)4000, "bye now", cts.Token);
            Assert.Equal((WebSocketCloseStatus)4000, socket.CloseStatus);
            Assert.Equal("bye now", socket.CloseStatusDescription);
        }

        // The peer's close reaches the client.
        using (var socket = await ConnectAsync(port, "/close1008"))
        {
            await SendTextAsync(socket, "hi");
            using var cts = new CancellationTokenSource(Timeout);
            var result = await socket.ReceiveAsync(new byte[64], cts.Token);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
            Assert.Equal("no shouting here", result.CloseStatusDescription);
        }
    }

    [Fact]
    public async Task Latency_adds_what_was_set_over_100_message_round_trips()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var plainPort = AddWs(proxy, "plain", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        var slowPort = AddWs(proxy, "slow", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("slow", """{"type":"latency","stream":"downstream","attributes":{"latency":50,"jitter":0}}""");
        using var plain = await ConnectAsync(plainPort);
        using var slow = await ConnectAsync(slowPort);
        var plainTimes = new List<double>();
        var slowTimes = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            plainTimes.Add(await RoundTripMsAsync(plain));
            slowTimes.Add(await RoundTripMsAsync(slow));
        }

        var added = Median(slowTimes) - Median(plainTimes);
        LatencyAdded.Check(added, 50, $"without the toxic {Median(plainTimes):F2} ms");
    }

    private static async Task<double> RoundTripMsAsync(WebSocket socket)
    {
        var watch = Stopwatch.StartNew();
        await SendTextAsync(socket, "ping");
        Assert.Equal("PING", await socket.ReceiveTextAsync());
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    [Fact]
    public async Task Limit_data_forwards_exactly_N_payload_bytes_then_a_close_frame()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "limited", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("limited", """{"type":"limit_data","stream":"downstream","attributes":{"bytes":10}}""");
        using var socket = await ConnectAsync(port);

        await SendTextAsync(socket, "abcdef");
        Assert.Equal("ABCDEF", await socket.ReceiveTextAsync());
        await SendTextAsync(socket, "ghijkl");

        // The rest of the 10 bytes, as a message that never ends (a cut message is never taken
        // for a whole one), then the proxy's close frame.
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[64];
        var received = new MemoryStream();
        WebSocketReceiveResult result;
        while ((result = await socket.ReceiveAsync(buffer, cts.Token)).MessageType != WebSocketMessageType.Close)
        {
            Assert.False(result.EndOfMessage, "the cut message was sent as a whole one");
            received.Write(buffer, 0, result.Count);
        }

        Assert.Equal("GHIJ", Encoding.ASCII.GetString(received.ToArray()));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, result.CloseStatus);
        Assert.Equal("limit_data", result.CloseStatusDescription);
    }

    [Fact]
    public async Task Bandwidth_paces_a_message_at_the_rate_set()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "thin", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("thin", """{"type":"bandwidth","stream":"downstream","attributes":{"rate":100}}""");
        using var socket = await ConnectAsync(port);
        var message = new byte[300_000];
        Array.Fill(message, (byte)'b');
        await socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);

        // Timed from the first frame: the first 50 ms worth (5,000 bytes) leaves at once, the rest at 100 KB/s.
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[64 * 1024];
        var first = await socket.ReceiveAsync(buffer, cts.Token);
        var watch = Stopwatch.StartNew();
        var total = first.Count;
        var end = first.EndOfMessage;
        while (!end)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            total += result.Count;
            end = result.EndOfMessage;
        }

        var seconds = watch.Elapsed.TotalSeconds;
        Assert.Equal(300_000, total);
        var rate = (total - first.Count) / seconds / 1000;
        Assert.True(Math.Abs(rate - 100) <= 10, $"{rate:F1} KB/s over {seconds:F2} s (set 100)");
    }

    [Fact]
    public async Task Timeout_drops_messages_then_closes_the_connection_without_a_close_frame()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "unplugged", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("unplugged", """{"type":"timeout","stream":"upstream","attributes":{"timeout":500}}""");
        using var socket = await ConnectAsync(port);
        var watch = Stopwatch.StartNew();
        await SendTextAsync(socket, "lost");
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<WebSocketException>(async () => await socket.ReceiveAsync(new byte[64], cts.Token));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, error.WebSocketErrorCode);
        Assert.True(watch.ElapsedMilliseconds >= 450, $"closed after {watch.ElapsedMilliseconds} ms (timeout 500)");
    }

    [Fact]
    public async Task A_message_over_the_limit_closes_both_sides_with_1009()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "big", "ws://127.0.0.1:0/", $"ws://127.0.0.1:{peer.Port}/");
        using var socket = await ConnectAsync(port, "/upper");
        await socket.SendAsync(new byte[MessagePump.MaxMessageBytes + 1], WebSocketMessageType.Binary, true, CancellationToken.None);
        using var cts = new CancellationTokenSource(Timeout);
        var result = await socket.ReceiveAsync(new byte[64], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
        Assert.Equal($"a message is at most {MessagePump.MaxMessageBytes} bytes through the proxy", result.CloseStatusDescription);
    }

    [Fact]
    public async Task Reset_peer_is_seen_by_the_client_as_a_reset()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "reset", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("reset", """{"type":"reset_peer","stream":"upstream","attributes":{"timeout":100}}""");
        using var socket = await ConnectAsync(port);
        await SendTextAsync(socket, "hello");
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<WebSocketException>(async () => await socket.ReceiveAsync(new byte[64], cts.Token));
        var reset = false;
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            reset |= e is SocketException { SocketErrorCode: SocketError.ConnectionReset };
        }

        Assert.True(reset, $"not a reset: {error}");
    }

    [Fact]
    public async Task Slicer_sends_a_message_as_continuation_frames_of_the_size_set()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "sliced", "ws://127.0.0.1:0/", $"ws://127.0.0.1:{peer.Port}/");
        await proxy.AddToxicAsync("sliced", """{"type":"slicer","stream":"upstream","attributes":{"average_size":10,"size_variation":0,"delay":1000}}""");
        using var socket = await ConnectAsync(port, "/report");
        await socket.SendAsync(new byte[100], WebSocketMessageType.Binary, true, CancellationToken.None);

        // The peer counts the frames on its wire: one message of 100 bytes, in 10 frames.
        using var report = JsonDocument.Parse(await socket.ReceiveTextAsync());
        Assert.Equal("binary", report.RootElement.GetProperty("type").GetString());
        Assert.Equal(100, report.RootElement.GetProperty("bytes").GetInt32());
        Assert.Equal(10, report.RootElement.GetProperty("frames").GetInt32());
    }

    [Fact]
    public async Task A_client_that_never_reads_stops_its_own_sends_instead_of_filling_the_proxy()
    {
        // The server answers every message; the client reads none of the answers. Backpressure must
        // reach back through the proxy (its queue bounded, then the server's sends, then the
        // proxy's reads of the client) until the client's own sends stall. A proxy that buffered
        // without bound would take all 256 MiB.
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddWs(proxy, "held", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        await proxy.AddToxicAsync("held", """{"type":"latency","stream":"downstream","attributes":{"latency":1}}""");
        using var socket = await ConnectAsync(port);
        var message = new byte[16 * 1024];
        Array.Fill(message, (byte)'a');
        long sent = 0;
        while (sent < 256L * 1024 * 1024)
        {
            var send = socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
            if (await Task.WhenAny(send, Task.Delay(TimeSpan.FromSeconds(3))) != send)
            {
                break;
            }

            await send;
            sent += message.Length;
        }

        Assert.True(sent < 64L * 1024 * 1024, $"{sent / 1024} KiB sent with nobody reading the answers: nothing stopped the client");
        socket.Abort();
    }

    [Fact]
    public async Task An_upstream_that_is_down_refuses_the_clients_handshake_at_once_with_502()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var downPort = ((IPEndPoint)closed.LocalEndPoint!).Port; // bound, not listening: a connect is refused
        var port = AddWs(proxy, "down", "ws://127.0.0.1:0/ws", $"ws://127.0.0.1:{downPort}/ws");

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<WebSocketException>(async () =>
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), new CancellationTokenSource(Timeout).Token));
        Assert.Equal(HttpStatusCode.BadGateway, socket.HttpStatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refused after {watch.Elapsed}");

        // A path that is not under the listen path: 404, nothing dialed.
        using var other = new ClientWebSocket();
        other.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(async () =>
            await other.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/elsewhere"), new CancellationTokenSource(Timeout).Token));
        Assert.Equal(HttpStatusCode.NotFound, other.HttpStatusCode);
    }

    [Fact]
    public async Task A_datagram_toxic_on_a_ws_proxy_and_a_ws_listener_to_tcp_are_refused_in_one_line()
    {
        await using var server = await WebServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        AddWs(proxy, "ws", "ws://127.0.0.1:0/ws", server.WebSocketUri().ToString());
        using var response = await proxy.PostAsync("/proxies/ws/toxics", """{"type":"loss","stream":"upstream","toxicity":0.5}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("loss acts on datagrams; a ws proxy takes latency", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("[]", (await proxy.Http.GetStringAsync("/proxies/ws/toxics")).Trim());

        var flag = await CliRunner.ShoutAsync(["proxy", "-l", "ws://127.0.0.1:0/ws", "--to", server.WebSocketUri().ToString(), "--api", "none",
            "--toxic", "loss:upstream:toxicity=0.5"], timeout: Timeout);
        Assert.Equal(2, flag.ExitCode);
        Assert.StartsWith("shout proxy: --toxic loss: loss acts on datagrams; a ws proxy takes", flag.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', flag.Stderr.Trim());

        var kinds = await CliRunner.ShoutAsync(["proxy", "-l", "ws://127.0.0.1:0/ws", "--to", "tcp://127.0.0.1:1", "--api", "none"], timeout: Timeout);
        Assert.Equal(2, kinds.ExitCode);
        Assert.Contains("--listen ws://127.0.0.1:0/ws and --to 127.0.0.1:1: a udp proxy forwards to udp, a ws or wss proxy to ws or wss", kinds.Stderr,
            StringComparison.Ordinal);
    }
}
