using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// RELIABILITY rows 19 and 26 on the web port's plain HTTP: every connection is admitted by the
/// session core at accept (access lists, both connection limits), and the per-request checks
/// (<c>Host</c>, the admin paths) hold.
/// </summary>
public sealed class WebAdmissionTests
{
    private static readonly IPAddress Denied = IPAddress.Parse("127.0.0.2");

    private static readonly string[] Upgrade =
        ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"];

    // POST /reload needs its token (row 27), so a refusal below is the access list's, not the token check's.
    private const string ReloadToken = "row26-reload-token-0123456789";

    private static string[] HeadersFor(string path) =>
        path == "/ws" ? Upgrade : path == "/reload" ? ["Authorization: Bearer " + ReloadToken] : [];

    public static TheoryData<string, string> WebPaths => new()
    {
        { "GET", "/" },
        { "GET", "/metrics" },
        { "GET", "/healthz" },
        { "GET", "/live" },
        { "POST", "/reload" },
        { "GET", "/ws" },
    };

    [Theory]
    [MemberData(nameof(WebPaths))]
    public async Task Row26_a_denied_client_is_closed_unread_on_every_web_path(string method, string path)
    {
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Access = AccessList.Create([], ["127.0.0.2/32"]);
            o.Web.ReloadEndpoint = true;
            o.Web.ReloadToken = ReloadToken;
        });
        var headers = HeadersFor(path);

        // The same request from an admitted address is answered: the refusal below is the access list's.
        var served = await RawHttp.SendAsync(server.Web(), IPAddress.Loopback, RawHttp.Request(method, path, "127.0.0.1", headers));
        // (POST /reload reaches its endpoint, which answers 422: a test server has no settings source.)
        Assert.True(served.Status is 200 or 101 or 422, $"{method} {path} from 127.0.0.1: {served.Text}");

        var refused = await RawHttp.SendAsync(server.Web(), Denied, RawHttp.Request(method, path, "127.0.0.1", headers));
        Assert.True(refused.Closed && refused.Text.Length == 0, $"{method} {path} from a denied address got: {refused.Text}");
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Denied) == 1, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Denied)} denials counted");
    }

    [Fact]
    public async Task Row26_web_connections_count_against_max_connections_and_an_upgrade_holds_one_slot_not_two()
    {
        await using var server = await WebServer.StartServerAsync(o => o.MaxConnections = 2);
        var web = server.Web();

        // A WebSocket and a keep-alive HTTP connection hold the two slots.
        using var ws = await server.ConnectWebSocketAsync();
        await ws.SendAsync("one"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("ONE", await ws.ReceiveTextAsync());
        using var keepAlive = await RawClient.ConnectAsync(RawHttp.Endpoint(web));
        Assert.Equal(200, (await RawHttp.ExchangeAsync(keepAlive, RawHttp.Request("GET", "/healthz", "localhost"))).Status);

        // A third web connection is told why over HTTP, then closed; a third stream connection too.
        var busy = await RawHttp.SendAsync(web, IPAddress.Loopback, RawHttp.Request("GET", "/healthz", "localhost"));
        Assert.Equal(503, busy.Status);
        Assert.Contains("ERR server busy (max 2 connections)", busy.Text, StringComparison.Ordinal);
        using (var stream = await RawClient.ConnectAsync(server.Endpoint))
        {
            Assert.StartsWith("ERR server busy", System.Text.Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(stream)), StringComparison.Ordinal);
        }

        // The keep-alive connection's close frees its slot for the next one.
        keepAlive.Close();
        await Eventually.TrueAsync(() => server.Server.Services.GetAdmission().OpenConnections == 1, TimeSpan.FromSeconds(15),
            () => $"{server.Server.Services.GetAdmission().OpenConnections} connections hold slots");
        Assert.Equal(200, (await RawHttp.SendAsync(web, IPAddress.Loopback, RawHttp.Request("GET", "/healthz", "localhost"))).Status);
    }

    [Fact]
    public async Task Row26_half_sent_requests_from_a_denied_address_are_closed_at_once()
    {
        const int count = 2000;
        await using var server = await WebServer.StartServerAsync(o =>
        {
            o.Access = AccessList.Create([], ["127.0.0.2/32"]);
            o.MaxConnections = 50;
        });
        var endpoint = RawHttp.Endpoint(server.Web());
        var sockets = new List<Socket>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var socket = await RawClient.ConnectFromAsync(endpoint, Denied);
                sockets.Add(socket);
                try
                {
                    // Half a request: Kestrel's own header timeout (30 s) would hold an admitted one that long.
                    await socket.SendAsync("GET / HTTP/1.1\r\nHost: localhost\r\n"u8.ToArray());
                }
                catch (SocketException)
                {
                    // Closed by the server already.
                }
            }

            // Every one is closed well before any header timeout could have closed it.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var buffer = new byte[64];
            foreach (var socket in sockets)
            {
                try
                {
                    Assert.Equal(0, await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token));
                }
                catch (SocketException)
                {
                    // Reset: closed too.
                }
            }
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        Assert.Equal(count, server.Metrics.ClosedFor(CloseReason.Denied));
        Assert.Equal(0, server.Server.Services.GetAdmission().OpenConnections);
    }

    public static TheoryData<string[], string, int> HostRows => new()
    {
        { [], "127.0.0.1:PORT", 200 },
        { [], "localhost:PORT", 200 },
        { [], "LOCALHOST", 200 },
        { [], "[::1]:PORT", 200 },
        { [], "192.0.2.7:PORT", 200 },
        { [], "MACHINE", 200 },
        { [], "evil.example", 421 },
        { [], "evil.example:PORT", 421 },
        { [], "localhost.evil.example", 421 },
        { ["shout.example.org"], "shout.example.org:PORT", 200 },
        { ["shout.example.org"], "SHOUT.example.org.", 200 },
        { ["shout.example.org"], "localhost:PORT", 421 },
        { ["shout.example.org"], "evil.example", 421 },
    };

    [Theory]
    [MemberData(nameof(HostRows))]
    public async Task Row26_the_Host_header_must_name_this_server(string[] webHosts, string host, int status)
    {
        await using var server = await WebServer.StartAsync(w =>
        {
            foreach (var name in webHosts)
            {
                w.Hosts.Add(name);
            }
        });
        var web = server.Web();
        host = host.Replace("PORT", web.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("MACHINE", Dns.GetHostName(), StringComparison.Ordinal);
        foreach (var path in new[] { "/", "/healthz" })
        {
            var reply = await RawHttp.SendAsync(web, IPAddress.Loopback, RawHttp.Request("GET", path, host));
            Assert.True(reply.Status == status, $"Host: {host} on {path}: expected {status}, got {reply.Text}");
            if (status == 421)
            {
                Assert.Contains($"ERR this server does not answer to host", reply.Text, StringComparison.Ordinal);
            }
        }
    }

    public static TheoryData<string, string, string, int> AdminRows => new()
    {
        // Admin allow 127.0.0.1/32: 127.0.0.2 is outside it.
        { "127.0.0.2", "GET", "/metrics", 403 },
        { "127.0.0.2", "GET", "/live", 403 },
        { "127.0.0.2", "POST", "/reload", 403 },
        { "127.0.0.2", "GET", "/METRICS/", 403 },
        { "127.0.0.2", "GET", "/", 200 },
        { "127.0.0.2", "GET", "/healthz", 200 },
        { "127.0.0.2", "GET", "/ws", 101 },
        { "127.0.0.1", "GET", "/metrics", 200 },
        { "127.0.0.1", "GET", "/live", 200 },
        // Reaches the endpoint, which answers 422: a test server has no settings source to reload from.
        { "127.0.0.1", "POST", "/reload", 422 },
    };

    [Theory]
    [MemberData(nameof(AdminRows))]
    public async Task Row26_admin_paths_answer_only_the_admin_networks(string from, string method, string path, int status)
    {
        await using var server = await WebServer.StartAsync(w =>
        {
            w.AdminAllow.Add(IPNetwork.Parse("127.0.0.1/32"));
            w.ReloadEndpoint = true;
            w.ReloadToken = ReloadToken;
        });
        var headers = HeadersFor(path);
        var reply = await RawHttp.SendAsync(server.Web(), IPAddress.Parse(from), RawHttp.Request(method, path, "localhost", headers));
        Assert.True(reply.Status == status, $"{method} {path} from {from}: expected {status}, got {reply.Text}");
        if (status == 403)
        {
            Assert.Contains("is for the admin networks only", reply.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Row26_by_default_the_admin_paths_are_for_loopback()
    {
        await using var server = await WebServer.StartAsync();
        Assert.Equal(200, (await RawHttp.SendAsync(server.Web(), Denied, RawHttp.Request("GET", "/metrics", "localhost"))).Status);
        var gate = new Shout.Web.WebGate(new Shout.Web.ShoutWebOptions());
        Assert.True(gate.IsAdmin(IPAddress.Parse("::ffff:127.0.0.9")));
        Assert.False(gate.IsAdmin(IPAddress.Parse("192.0.2.1")));
        Assert.False(gate.IsAdmin(IPAddress.Parse("2001:db8::1")));
    }
}
