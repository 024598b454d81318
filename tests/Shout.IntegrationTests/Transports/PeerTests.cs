using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>Standard tools as clients: what a user would try first against each transport.</summary>
public sealed class PeerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Socat_talks_over_the_Unix_socket_with_a_half_close()
    {
        var path = Path.Combine(Repo.TempDir(), "s.sock");
        await using var server = await TestServer.StartAsync(listen: "unix://" + path);
        var result = await CliRunner.RunAsync(Tools.Require("socat"), ["-t", "10", "-", "UNIX-CONNECT:" + path], "hello ȿ"u8.ToArray());
        Assert.Equal("HELLO Ȿ", result.StdoutText);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Nc_reaches_a_dual_stack_listener_over_IPv6_and_IPv4()
    {
        await using var server = await TestServer.StartAsync(listen: "tcp://[::]:0");
        var port = server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var nc = Tools.Require("nc");
        var v6 = await CliRunner.RunAsync(nc, ["-6", "-N", "::1", port], "hello six"u8.ToArray());
        var v4 = await CliRunner.RunAsync(nc, ["-4", "-N", "127.0.0.1", port], "hello four"u8.ToArray());
        Assert.Equal("HELLO SIX", v6.StdoutText);
        Assert.Equal("HELLO FOUR", v4.StdoutText);
    }

    [Fact]
    public async Task Ncat_ssl_gets_every_reply_and_a_clean_TLS_close()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        var result = await CliRunner.RunAsync(Tools.Require("ncat"),
            ["--ssl", "127.0.0.1", server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], "hello tls"u8.ToArray());
        Assert.Equal("HELLO TLS", result.StdoutText);

        // Without the server's close_notify ncat reports "Input/output error" and exits 1.
        Assert.True(result.ExitCode == 0, $"ncat exited {result.ExitCode}: {result.Stderr}");
    }

    [Fact]
    public async Task Openssl_s_client_is_answered_sees_the_certificate_whose_fingerprint_the_server_gives_and_no_ALPN()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        await using var client = ProcessHarness.Start(Tools.Require("openssl"),
            ["s_client", "-connect", $"127.0.0.1:{server.Endpoint.Port}", "-ign_eof", "-alpn", "h2,http/1.1"]);
        await client.WaitForLineAsync("-----END CERTIFICATE-----", Wait);
        await client.Stdin.WriteAsync("hello openssl\n");
        await client.Stdin.FlushAsync();
        await client.WaitForLineAsync("HELLO OPENSSL", Wait);

        // The stream is not HTTP: an ALPN offer of h2 or http/1.1 must not be accepted.
        Assert.Contains("No ALPN negotiated", client.Stdout, StringComparison.Ordinal);

        using var served = X509Certificate2.CreateFromPem(client.Stdout);
        Assert.Equal(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256), served.GetCertHash(HashAlgorithmName.SHA256));
    }

    [Theory]
    [InlineData("nc")]
    [InlineData("socat")]
    public async Task A_UDP_peer_gets_one_reply_per_datagram(string tool)
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        var port = server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] args = tool == "nc" ? ["-u", "127.0.0.1", port] : ["-", "UDP:127.0.0.1:" + port];

        // Each line is written (and so sent) alone, after the previous reply came back.
        await using var peer = ProcessHarness.Start(Tools.Require(tool), args);
        foreach (var line in (string[])["hello udp", "straße ȿ"])
        {
            await peer.Stdin.WriteAsync(line + "\n");
            await peer.Stdin.FlushAsync();
            await peer.WaitForLineAsync(Encoding.UTF8.GetString(Text.ShoutCase.ToUpper(Encoding.UTF8.GetBytes(line))), Wait);
        }
    }
}
