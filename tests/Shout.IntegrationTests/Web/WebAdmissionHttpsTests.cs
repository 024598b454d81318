using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// RELIABILITY rows 19 and 26 on the web port over HTTPS: admission runs before TLS, so a denied
/// client is closed before its handshake (nothing read, nothing sent), and one over a limit is told
/// why over HTTPS after the handshake (never a plaintext byte where a TLS record is expected).
/// </summary>
public sealed class WebAdmissionHttpsTests
{
    private static readonly IPAddress Denied = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Row26_over_https_a_denied_client_is_closed_before_its_handshake_on_every_path()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Web.Address = new Uri("https://127.0.0.1:0");
            o.Access = AccessList.Create([], ["127.0.0.2/32"]);
            // Longer than the wait below: a close within it is the admission's, not the handshake timeout's.
            o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(60);
        });
        var web = RawHttp.Endpoint(server.Server.WebAddress!);

        // From an admitted address the handshake and a request work: the refusal below is the access list's.
        using (var admitted = await RawClient.ConnectFromAsync(web, IPAddress.Loopback))
        await using (var tls = await HandshakeAsync(admitted, Pin(server)))
        {
            Assert.StartsWith("HTTP/1.1 200", await ExchangeAsync(tls, RawHttp.Request("GET", "/healthz", "localhost")), StringComparison.Ordinal);
        }

        // A denied client is closed at accept: before it has sent a byte, its read ends with nothing.
        using (var silent = await RawClient.ConnectFromAsync(web, Denied))
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            Assert.Equal(0, await ReadOrResetAsync(silent, deadline.Token));
        }

        // And a TLS client from there gets no handshake, so no path (/, /metrics, /ws, /reload…) is reachable.
        using (var refused = await RawClient.ConnectFromAsync(web, Denied))
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await HandshakeAsync(refused, Pin(server)));
        }

        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.Denied) >= 2, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ClosedFor(CloseReason.Denied)} denials counted");
    }

    [Fact]
    public async Task Row26_over_https_a_client_over_the_limit_is_told_why_inside_tls()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Web.Address = new Uri("https://127.0.0.1:0");
            o.MaxConnections = 1;
        });
        var web = RawHttp.Endpoint(server.Server.WebAddress!);

        // A keep-alive HTTPS connection holds the one slot.
        using var holder = await RawClient.ConnectFromAsync(web, IPAddress.Loopback);
        await using var held = await HandshakeAsync(holder, Pin(server));
        Assert.StartsWith("HTTP/1.1 200", await ExchangeAsync(held, RawHttp.Request("GET", "/healthz", "localhost")), StringComparison.Ordinal);

        // The next one completes its handshake (the server sent TLS records, not a plaintext line) and gets 503 with the reason.
        using var extra = await RawClient.ConnectFromAsync(web, IPAddress.Loopback);
        await using var tls = await HandshakeAsync(extra, Pin(server));
        var busy = await ExchangeAsync(tls, RawHttp.Request("GET", "/healthz", "localhost"));
        Assert.StartsWith("HTTP/1.1 503", busy, StringComparison.Ordinal);
        Assert.Contains("ERR server busy (max 1 connections)", busy, StringComparison.Ordinal);
    }

    private static async Task<SslStream> HandshakeAsync(Socket socket, string? pin)
    {
        // Trusts only the certificate the server made at start.
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false,
            (_, certificate, _, _) => certificate?.GetCertHashString() == pin);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, deadline.Token);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends one request and reads until the response's body ends (the server closes or a newline ends the short body).</summary>
    private static async Task<string> ExchangeAsync(SslStream tls, string request)
    {
        await tls.WriteAsync(Encoding.ASCII.GetBytes(request));
        await tls.FlushAsync();
        var text = new StringBuilder();
        var buffer = new byte[8192];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var read = await tls.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var whole = text.ToString();
            var head = whole.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (head >= 0 && whole.EndsWith('\n') && whole.Length > head + 4)
            {
                return whole;
            }
        }
    }

    private static string? Pin(TestServer server) => server.Server.TlsCertificate?.GetCertHashString();

    private static async Task<int> ReadOrResetAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }
}
