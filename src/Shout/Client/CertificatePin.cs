using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Shout.Client;

/// <summary>
/// A SHA-256 certificate fingerprint to pin a server to: 64 hex digits, with or without colons
/// (<c>AB:CD:…</c> as <c>openssl x509 -fingerprint -sha256</c> prints it), optionally prefixed
/// <c>sha256:</c> or <c>SHA256=</c>, any case. Immutable.
/// </summary>
public sealed class CertificatePin
{
    private readonly byte[] _hash;

    private CertificatePin(byte[] hash) => _hash = hash;

    /// <summary>Parses a fingerprint; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static CertificatePin Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        foreach (var prefix in (string[])["sha256:", "sha256=", "sha256 fingerprint="])
        {
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                value = value[prefix.Length..];
                break;
            }
        }

        var hex = value.Replace(":", "", StringComparison.Ordinal);
        if (hex.Length != SHA256.HashSizeInBytes * 2)
        {
            throw new FormatException($"'{text}': a SHA-256 fingerprint has 64 hex digits (colons optional), not {hex.Length}");
        }

        try
        {
            return new CertificatePin(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            throw new FormatException($"'{text}': a SHA-256 fingerprint is made of hex digits 0-9 and A-F");
        }
    }

    /// <summary>Parses a fingerprint, returning false with a message instead of throwing.</summary>
    public static bool TryParse(string text, out CertificatePin? pin, out string error)
    {
        try
        {
            pin = Parse(text);
            error = "";
            return true;
        }
        catch (FormatException e)
        {
            pin = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>True when <paramref name="certificate"/>'s SHA-256 fingerprint is this one.</summary>
    public bool Matches(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return CryptographicOperations.FixedTimeEquals(certificate.GetCertHash(HashAlgorithmName.SHA256), _hash);
    }

    /// <summary>The fingerprint as colon-separated upper-case hex.</summary>
    public override string ToString() =>
        string.Join(':', _hash.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
}
