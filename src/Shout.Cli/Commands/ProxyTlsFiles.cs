using System.Security.Cryptography.X509Certificates;
using Shout.Configuration;
using Shout.Toxics;
using Shout.Transports.Tls;

namespace Shout.Cli.Commands;

/// <summary><c>shout proxy</c>'s TLS files: the listeners' certificate (read as <c>serve</c> reads its own) and the upstream's trust.</summary>
internal static class ProxyTlsFiles
{
    /// <summary>Throws <see cref="IOException"/> or <see cref="InvalidDataException"/> with one line naming the file.</summary>
    public static ProxyTls Load(FileInfo? certificate, FileInfo? key, FileInfo? upstreamCa)
    {
        if (key is not null && certificate is null)
        {
            throw new OptionFileException("--tls-key needs --tls-cert");
        }

        var listeners = certificate is null ? null : ServerCertificates.Load(new ShoutTlsOptions
        {
            CertificatePath = certificate.FullName,
            KeyPath = key?.FullName,
            Password = Environment.GetEnvironmentVariable(ServeCommand.TlsPasswordVariable) is { Length: > 0 } password ? password : null,
        });
        X509Certificate2Collection? trust = null;
        if (upstreamCa is not null)
        {
            trust = [];
            try
            {
                trust.ImportFromPem(OptionFile.ReadAllText("--upstream-ca", upstreamCa.FullName, SizeLimits.CertificateFile));
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new InvalidDataException($"--upstream-ca {upstreamCa.Name}: {e.Message}", e);
            }

            if (trust.Count == 0)
            {
                throw new InvalidDataException($"--upstream-ca {upstreamCa.Name}: no PEM certificate in it");
            }
        }

        return new ProxyTls(listeners, trust);
    }
}
