using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

public sealed class HttpEndpointTests
{
    [Fact]
    public async Task Healthz_says_healthy_while_serving()
    {
        await using var server = await WebServer.StartAsync();
        using var http = server.Http();
        using var response = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_scrape_cleanly_and_count_connections_bytes_messages_and_rejections()
    {
        await using var server = await WebServer.StartAsync(w => w.MaxWebSockets = 1);
        using (var socket = await RawClient.ConnectAsync(server.Endpoint))
        {
            await socket.SendAsync("hello"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("HELLO"u8.ToArray(), await RawClient.ReadToEndAsync(socket));
        }

        using var ws = await server.ConnectWebSocketAsync();
        await ws.SendAsync("hey"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("HEY", await ws.ReceiveTextAsync());
        using (var refused = new ClientWebSocket())
        {
            await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketUri(), CancellationToken.None));
        }

        await Eventually.TrueAsync(() => server.Metrics.ClosedConnections == 1, TimeSpan.FromSeconds(15), () => "tcp close not counted");

        using var http = server.Http();
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var families = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        double Value(string family, params (string Label, string Value)[] labels) =>
            families[family].Samples.Single(s => s.Name == family && labels.All(l => s.Labels.GetValueOrDefault(l.Label) == l.Value)).Value;

        Assert.Equal(1, Value("shout_connections_accepted_total", ("transport", "tcp")));
        Assert.Equal(1, Value("shout_connections_accepted_total", ("transport", "ws")));
        Assert.Equal(0, Value("shout_connections_active", ("transport", "tcp")));
        Assert.Equal(1, Value("shout_connections_active", ("transport", "ws")));
        Assert.Equal(1, Value("shout_connections_closed_total", ("transport", "tcp"), ("reason", "client_closed")));
        Assert.Equal(1, Value("shout_connections_rejected_total", ("transport", "ws"), ("reason", "limit")));
        Assert.Equal(5, Value("shout_received_bytes_total", ("transport", "tcp")));
        Assert.Equal(5, Value("shout_sent_bytes_total", ("transport", "tcp")));
        Assert.Equal(3, Value("shout_received_bytes_total", ("transport", "ws")));
        Assert.Equal(1, Value("shout_messages_total", ("transport", "ws")));
        Assert.Equal("histogram", families["shout_connection_duration_seconds"].Type);
        Assert.Equal(1, families["shout_connection_duration_seconds"].Samples
            .Single(s => s.Name == "shout_connection_duration_seconds_count" && s.Labels["transport"] == "tcp").Value);
    }

    [Fact]
    public async Task Two_servers_in_one_process_keep_their_metrics_apart()
    {
        await using var first = await WebServer.StartAsync();
        await using var second = await WebServer.StartAsync();
        using (var socket = await RawClient.ConnectAsync(first.Endpoint))
        {
            await socket.SendAsync("x"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            await RawClient.ReadToEndAsync(socket);
        }

        using var http = second.Http();
        var families = PrometheusText.Parse(await http.GetStringAsync("/metrics"));
        Assert.False(families.ContainsKey("shout_received_bytes_total"), "the second server reported the first one's traffic");
    }

    [Fact]
    public async Task The_live_stream_pushes_frames_that_count_an_open_tcp_client()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await socket.SendAsync("hi"u8.ToArray());
        await RawClient.ReadExactlyAsync(socket, 2);

        var frame = await server.WaitForLiveFrameAsync(data =>
        {
            using var json = JsonDocument.Parse(data);
            return json.RootElement.GetProperty("transports").EnumerateArray()
                .Any(t => t.GetProperty("name").GetString() == "tcp" && t.GetProperty("active").GetInt64() == 1);
        }, TimeSpan.FromSeconds(30));

        using var parsed = JsonDocument.Parse(frame);
        var root = parsed.RootElement;
        Assert.Equal(1, root.GetProperty("sample").GetProperty("active").GetInt64());
        Assert.Contains(root.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "opened"
            && e.GetProperty("transport").GetString() == "tcp");

        // The server's TCP state table sees the client: ESTABLISHED on the server's port and on the client's side.
        var established = root.GetProperty("tcpStates").EnumerateArray().Single(s => s.GetProperty("state").GetString() == "ESTABLISHED");
        Assert.True(established.GetProperty("server").GetInt32() >= 1, frame);
        Assert.True(established.GetProperty("clients").GetInt32() >= 1, frame);
        Assert.Contains(root.GetProperty("endpoints").EnumerateArray(), e => e.GetString() == server.Endpoint.ToString());
    }

    [Fact]
    public async Task A_new_viewer_gets_the_history_first_and_stopping_the_server_ends_its_stream()
    {
        // A shutdown timeout longer than the test's deadline: only the stream ending by itself passes.
        var server = await TestServer.StartAsync(o =>
        {
            o.Web.Address = new Uri("http://127.0.0.1:0");
            o.ShutdownTimeout = TimeSpan.FromMinutes(5);
        });
        try
        {
            using var http = server.Http();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var response = await http.GetAsync("/live", HttpCompletionOption.ResponseHeadersRead, cts.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            Assert.Equal("retry: 2000", await reader.ReadLineAsync(cts.Token));
            Assert.Equal("event: history", await reader.ReadLineAsync(cts.Token));
            var history = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("data: [", history, StringComparison.Ordinal);
            Assert.Equal("", await reader.ReadLineAsync(cts.Token));
            Assert.StartsWith("data: {\"sample\"", await reader.ReadLineAsync(cts.Token), StringComparison.Ordinal);

            // A stop must not wait out its shutdown timeout for an open live stream.
            var stop = server.Server.StopAsync(cts.Token);
            while (await reader.ReadLineAsync(cts.Token) is not null)
            {
            }

            await stop;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_page_and_its_files_are_served_from_the_assembly_with_etags()
    {
        await using var server = await WebServer.StartAsync();
        using var http = server.Http();
        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>Shout</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        foreach (var (path, type) in new[] { ("/app.js", "text/javascript"), ("/app.css", "text/css"), ("/linechart.js", "text/javascript"), ("/favicon.svg", "image/svg+xml") })
        {
            using var asset = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(asset.Headers.ETag!);
            using var cached = await http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        }

        using var missing = await http.GetAsync("/nothing-here.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Without_a_web_address_no_http_is_served()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Null(server.Server.WebAddress);
        Assert.Single(server.Server.Endpoints);
    }
}
