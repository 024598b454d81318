using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Toxics;
using Shout.Transports.Tls;

namespace Shout.IntegrationTests.Toxics;

/// <summary>A <c>tls://</c> listener: the proxy terminates TLS, forwards plaintext or encrypts to a <c>tls://</c> upstream again.</summary>
public sealed partial class TlsTerminatingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_tls_listener_terminates_tls_forwards_plaintext_and_the_toxics_act_on_the_plaintext()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync();
        var port = AddTls(proxy, "front", $"127.0.0.1:{server.Endpoint.Port}");
        var certificate = proxy.Server.Proxies.Tls.Certificate;
        await using var tls = await ConnectTlsAsync(port, certificate);
        Assert.Equal("TERMINATED", await RoundTripAsync(tls, "terminated"));

        await proxy.AddToxicAsync("front", """{"type":"latency","stream":"downstream","attributes":{"latency":200}}""");
        var watch = Stopwatch.StartNew();
        Assert.Equal("AND SLOWER", await RoundTripAsync(tls, "and slower"));
        Assert.True(watch.ElapsedMilliseconds >= 190, $"{watch.ElapsedMilliseconds} ms with a 200 ms latency");

        // Half-close crosses as close_notify and FIN: every reply still comes, then the end.
        await tls.WriteAsync("bye"u8.ToArray());
        await tls.ShutdownAsync();
        var rest = new MemoryStream();
        using var cts = new CancellationTokenSource(Timeout);
        await tls.CopyToAsync(rest, cts.Token);
        Assert.Equal("BYE", Encoding.ASCII.GetString(rest.ToArray()));

        // A reset crosses the bridge as a reset: reset_peer is seen by the TLS client as ECONNRESET.
        await proxy.AddToxicAsync("front", """{"type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}""");
        await using var reset = await ConnectTlsAsync(port, certificate);
        await reset.WriteAsync("hello"u8.ToArray());
        using var resetTimeout = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<IOException>(async () => await reset.ReadExactlyAsync(new byte[16], resetTimeout.Token));
        Assert.Equal(SocketError.ConnectionReset, (error.InnerException as SocketException)?.SocketErrorCode);
    }

    [Fact]
    public async Task A_tls_upstream_gets_tls_again_checked_against_upstream_ca_and_an_untrusted_one_resets_the_client()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Server.Proxies.Tls = new ProxyTls(upstreamTrust: [server.Server.TlsCertificate!]);
        var port = AddTls(proxy, "again", $"tls://127.0.0.1:{server.Endpoint.Port}");
        var certificate = proxy.Server.Proxies.Tls.Certificate;
        Assert.NotEqual(certificate.Thumbprint, server.Server.TlsCertificate!.Thumbprint);
        await using (var tls = await ConnectTlsAsync(port, certificate))
        {
            Assert.Equal("ENCRYPTED TWICE", await RoundTripAsync(tls, "encrypted twice"));
        }

        // An upstream whose certificate the trust list does not hold: the client's connection is reset, never left hanging.
        using var stranger = ServerCertificates.CreateSelfSigned();
        proxy.Server.Proxies.Tls = new ProxyTls(upstreamTrust: [stranger]);
        var distrustful = AddTls(proxy, "distrust", $"tls://127.0.0.1:{server.Endpoint.Port}");
        await using var refused = await ConnectTlsAsync(distrustful, proxy.Server.Proxies.Tls.Certificate);
        await refused.WriteAsync("hello"u8.ToArray());
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<IOException>(async () => await refused.ReadExactlyAsync(new byte[16], cts.Token));
        Assert.Equal(SocketError.ConnectionReset, (error.InnerException as SocketException)?.SocketErrorCode);
    }

    [Fact]
    public async Task Shout_proxy_listens_on_tls_with_a_pem_certificate_given_as_a_flag()
    {
        await using var server = await TestServer.StartAsync();
        var dir = Repo.TempDir();
        using var certificate = ServerCertificates.CreateSelfSigned();
        var file = Path.Combine(dir, "proxy.pem");
        await File.WriteAllTextAsync(file, certificate.ExportCertificatePem() + "\n" + certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await using var proxy = ProcessHarness.StartShout("proxy", "-l", "tls://127.0.0.1:0", "--to", $"tcp://127.0.0.1:{server.Endpoint.Port}",
            "--api", "none", "--tls-cert", file);
        var output = await proxy.WaitForOutputAsync(o => o.Contains("no API", StringComparison.Ordinal), Timeout);
        Assert.Contains($"SHA-256 fingerprint {ServerCertificates.Fingerprint(certificate)}", output, StringComparison.Ordinal);
        var port = int.Parse(TlsListenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        await using (var tls = await ConnectTlsAsync(port, certificate))
        {
            Assert.Equal("HELLO", await RoundTripAsync(tls, "hello"));
        }

        proxy.Signal(15);
        Assert.Equal(0, await proxy.WaitForExitAsync(Timeout));

        var bad = await CliRunner.ShoutAsync(["proxy", "-l", "tls://127.0.0.1:0", "--to", "127.0.0.1:9", "--api", "none", "--tls-key", file], timeout: Timeout);
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("shout proxy: --tls-key needs --tls-cert", bad.Stderr, StringComparison.Ordinal);

        // A file option naming a device is one line and exit 2; a file with no certificate in it one line and exit 1.
        var device = await CliRunner.ShoutAsync(["proxy", "-l", "tls://127.0.0.1:0", "--to", "tls://127.0.0.1:9", "--api", "none", "--upstream-ca", "/dev/zero"], timeout: Timeout);
        Assert.Equal(2, device.ExitCode);
        Assert.StartsWith("shout proxy: --upstream-ca /dev/zero: a character device, not a regular file", device.Stderr, StringComparison.Ordinal);
        var junk = Path.Combine(dir, "junk.pem");
        await File.WriteAllTextAsync(junk, "not a certificate\n");
        var empty = await CliRunner.ShoutAsync(["proxy", "-l", "tls://127.0.0.1:0", "--to", "tls://127.0.0.1:9", "--api", "none", "--upstream-ca", junk], timeout: Timeout);
        Assert.Equal(1, empty.ExitCode);
        Assert.Equal("shout proxy: --upstream-ca junk.pem: no PEM certificate in it", empty.Stderr.Trim());
    }

    private static int AddTls(ProxyFixture proxy, string name, string upstream)
    {
        Assert.True(ProxyAddress.TryParse("tls://127.0.0.1:0", out var listen, out var error), error);
        Assert.True(ProxyAddress.TryParse(upstream, out var to, out error), error);
        return proxy.Server.Proxies.Add(new ProxyInput(name, listen!, to!, true)).Listen.Endpoint.Port;
    }

    private static async Task<SslStream> ConnectTlsAsync(int port, X509Certificate2 expected)
    {
        var socket = await ProxyFixture.ConnectAsync(port);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        using var cts = new CancellationTokenSource(Timeout);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // Pinned: the proxy's own certificate, so the handshake was with the proxy.
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == expected.GetCertHashString(),
        }, cts.Token);
        return tls;
    }

    private static async Task<string> RoundTripAsync(SslStream tls, string text)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await tls.WriteAsync(Encoding.UTF8.GetBytes(text), cts.Token);
        await tls.FlushAsync(cts.Token);
        var reply = new byte[text.Length];
        await tls.ReadExactlyAsync(reply, cts.Token);
        return Encoding.UTF8.GetString(reply);
    }

    [GeneratedRegex(@"listening on tls://127\.0\.0\.1:(\d+)")]
    private static partial Regex TlsListenLine();
}
