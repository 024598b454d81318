using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography;
using System.Text;
using Shout.Client;
using Shout.IntegrationTests.Infrastructure;
using Shout.Transports.Tls;

namespace Shout.IntegrationTests.Transports;

/// <summary><c>--tls-cert</c>: PKCS#12 with a password, PEM with the key beside or inside, and clear errors.</summary>
public sealed class TlsCertificateFileTests
{
    [Fact]
    public async Task A_password_protected_PKCS12_file_is_served()
    {
        using var certificate = ServerCertificates.CreateSelfSigned();
        var path = Path.Combine(Repo.TempDir(), "server.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pkcs12, "s3cret"));
        await AssertServedAsync(certificate, o =>
        {
            o.Tls.CertificatePath = path;
            o.Tls.Password = "s3cret";
        });
    }

    [Fact]
    public async Task A_PEM_certificate_with_its_key_in_another_file_is_served()
    {
        using var certificate = ServerCertificates.CreateSelfSigned();
        var dir = Repo.TempDir();
        await File.WriteAllTextAsync(Path.Combine(dir, "cert.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(dir, "key.pem"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await AssertServedAsync(certificate, o =>
        {
            o.Tls.CertificatePath = Path.Combine(dir, "cert.pem");
            o.Tls.KeyPath = Path.Combine(dir, "key.pem");
        });
    }

    [Fact]
    public async Task A_PEM_file_holding_both_certificate_and_key_is_served()
    {
        using var certificate = ServerCertificates.CreateSelfSigned();
        var path = Path.Combine(Repo.TempDir(), "both.pem");
        await File.WriteAllTextAsync(path, certificate.ExportCertificatePem() + "\n" + certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await AssertServedAsync(certificate, o => o.Tls.CertificatePath = path);
    }

    [Fact]
    public async Task A_wrong_password_is_a_clear_error()
    {
        using var certificate = ServerCertificates.CreateSelfSigned();
        var path = Path.Combine(Repo.TempDir(), "server.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pkcs12, "right"));
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = path;
            o.Tls.Password = "wrong";
        }, "tls://127.0.0.1:0"));
        Assert.Contains("cannot load the TLS certificate", error.Message, StringComparison.Ordinal);
    }

    private static async Task AssertServedAsync(X509Certificate2 expected, Action<Shout.Hosting.ShoutServerOptions> configure)
    {
        await using var server = await TestServer.StartAsync(configure, "tls://127.0.0.1:0");
        var pin = CertificatePin.Parse(Convert.ToHexString(expected.GetCertHash(HashAlgorithmName.SHA256)));
        await using var client = await ShoutConnection.ConnectAsync(server.Endpoint, new ShoutClientOptions { Pin = pin });
        await client.Stream.WriteAsync("from a file"u8.ToArray());
        await client.HalfCloseAsync();
        using var output = new MemoryStream();
        await client.Stream.CopyToAsync(output, new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        Assert.Equal("FROM A FILE", Encoding.UTF8.GetString(output.ToArray()));
    }
}
