using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary>TLS through a tcp proxy: the proxy passes the bytes through untouched, the client's handshake is with the server.</summary>
public sealed class TlsPassthroughTests
{
    [Fact]
    public async Task A_tls_server_behind_the_proxy_completes_the_handshake_with_the_client_and_the_toxics_act_on_its_records()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("tls", $"127.0.0.1:{server.Endpoint.Port}");
        using var socket = await ProxyFixture.ConnectAsync(port);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // The server's own certificate, pinned: the proxy does not terminate TLS, so this is the server's.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == server.Server.TlsCertificate!.GetCertHashString(),
        }, timeout.Token);
        Assert.Equal("THROUGH THE PROXY", await RoundTripAsync(tls, "through the proxy", timeout.Token));

        await proxy.AddToxicAsync("tls", """{"type":"latency","stream":"downstream","attributes":{"latency":200}}""");
        var watch = Stopwatch.StartNew();
        Assert.Equal("AND SLOWER", await RoundTripAsync(tls, "and slower", timeout.Token));
        Assert.True(watch.ElapsedMilliseconds >= 190, $"{watch.ElapsedMilliseconds} ms with a 200 ms latency on the server's records");
    }

    private static async Task<string> RoundTripAsync(SslStream tls, string text, CancellationToken cancellationToken)
    {
        await tls.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await tls.FlushAsync(cancellationToken);
        var reply = new byte[text.Length];
        await tls.ReadExactlyAsync(reply, cancellationToken);
        return Encoding.UTF8.GetString(reply);
    }
}
