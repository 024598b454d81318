using System.Security.Cryptography.X509Certificates;
using Shout.Transports.Tls;

namespace Shout.Toxics;

/// <summary>
/// What a proxy's TLS needs: the certificate a <c>tls://</c> listener shows its clients (given, or a
/// self-signed one made when first needed, as <c>shout serve</c> makes one) and the certificates a
/// <c>tls://</c> upstream is checked against (null: the system's roots).
/// </summary>
internal sealed class ProxyTls
{
    private readonly Lazy<X509Certificate2> _certificate;

    public ProxyTls(X509Certificate2? certificate = null, X509Certificate2Collection? upstreamTrust = null)
    {
        _certificate = certificate is null ? new Lazy<X509Certificate2>(ServerCertificates.CreateSelfSigned) : new Lazy<X509Certificate2>(certificate);
        UpstreamTrust = upstreamTrust;
    }

    public X509Certificate2 Certificate => _certificate.Value;

    public X509Certificate2Collection? UpstreamTrust { get; }
}
