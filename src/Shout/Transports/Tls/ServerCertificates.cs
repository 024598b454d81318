using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Shout.Configuration;

namespace Shout.Transports.Tls;

/// <summary>Loads the server's TLS certificate from a file, or makes a self-signed one.</summary>
internal static class ServerCertificates
{
    /// <summary>The certificate <paramref name="options"/> names, or a fresh self-signed one.</summary>
    public static X509Certificate2 Load(ShoutTlsOptions options)
    {
        if (options.CertificatePath is not { Length: > 0 } path)
        {
            return CreateSelfSigned();
        }

        // Read through OptionFile: a device or FIFO named by mistake must not hang a start or a reload.
        var certificate = OptionFile.ReadAllBytes("--tls-cert", path, SizeLimits.CertificateFile);
        try
        {
            if (options.KeyPath is { Length: > 0 } keyPath)
            {
                var key = OptionFile.ReadAllText("--tls-key", keyPath, SizeLimits.CertificateFile);
                return FromPem(Encoding.UTF8.GetString(certificate), key, options.Password);
            }

            // A PEM file may hold the certificate and its key together; anything else is PKCS#12.
            var text = Encoding.UTF8.GetString(certificate);
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                return FromPem(text, text, options.Password);
            }

            return X509CertificateLoader.LoadPkcs12(certificate, options.Password);
        }
        // A key that does not belong to the certificate is an ArgumentException: one line naming the file too,
        // not an exception a reload (run off the signal thread) would lose without a word.
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"cannot load the TLS certificate '{path}': {e.Message} "
                + "(give a PKCS#12 file, or a PEM certificate with its key in the file or in --tls-key)", e);
        }
    }

    private static X509Certificate2 FromPem(string certificate, string key, string? password) =>
        password is null ? X509Certificate2.CreateFromPem(certificate, key) : X509Certificate2.CreateFromEncryptedPem(certificate, key, password);

    /// <summary>
    /// A self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, valid from a day ago
    /// for a year. ECDSA because it is generated in a millisecond, where RSA takes a noticeable pause.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=Shout (self-signed)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    /// <summary>The SHA-256 fingerprint as colon-separated upper-case hex, as <c>openssl x509 -fingerprint</c> prints it.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', certificate.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
