namespace Shout.Transports.Tls;

/// <summary>
/// The certificate and handshake settings of <c>tls://</c> endpoints. With no certificate file a
/// self-signed certificate is generated in memory at start (its SHA-256 fingerprint is logged so
/// clients can pin it). Not thread-safe; set before starting.
/// </summary>
public sealed class ShoutTlsOptions
{
    /// <summary>Certificate file: PKCS#12 (<c>.pfx</c>/<c>.p12</c>) or PEM. Null: self-signed.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file, when <see cref="CertificatePath"/> is a PEM certificate without its key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of a PKCS#12 file or of an encrypted PEM key. Null for none.</summary>
    public string? Password { get; set; }

    /// <summary>A client that has not finished the handshake by then is closed. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
