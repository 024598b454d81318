using System.Security.Cryptography;
using Shout.Client;
using Shout.Hosting;

namespace Shout.IntegrationTests.Transports;

/// <summary>TLS with the server's self-signed certificate, pinned by the client.</summary>
public sealed class TlsConformance : StreamTransportConformance
{
    protected override string Listen => "tls://127.0.0.1:0";

    protected override ShoutClientOptions ClientOptions(ShoutServer server) =>
        new() { Pin = CertificatePin.Parse(Convert.ToHexString(server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256))) };
}
