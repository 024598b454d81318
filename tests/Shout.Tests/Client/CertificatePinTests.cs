using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Shout.Client;

namespace Shout.Tests.Client;

public sealed class CertificatePinTests
{
    private const string Hex = "AFDDF969500EF825759A665CA2A8D22E927386749BB81DEA5D6BB8C2D32AEF61";

    [Theory]
    [InlineData(Hex)]
    [InlineData("afddf969500ef825759a665ca2a8d22e927386749bb81dea5d6bb8c2d32aef61")]
    [InlineData("AF:DD:F9:69:50:0E:F8:25:75:9A:66:5C:A2:A8:D2:2E:92:73:86:74:9B:B8:1D:EA:5D:6B:B8:C2:D3:2A:EF:61")]
    [InlineData("sha256:" + Hex)]
    [InlineData("SHA256 Fingerprint=AF:DD:F9:69:50:0E:F8:25:75:9A:66:5C:A2:A8:D2:2E:92:73:86:74:9B:B8:1D:EA:5D:6B:B8:C2:D3:2A:EF:61")]
    [InlineData("  " + Hex + "\n")]
    public void Accepts_the_ways_a_fingerprint_is_written(string text)
    {
        var pin = CertificatePin.Parse(text);
        Assert.Equal(Hex, pin.ToString().Replace(":", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "64 hex digits")]
    [InlineData("AF:DD", "not 4")]
    [InlineData(Hex + "00", "not 66")]
    [InlineData("ZZDDF969500EF825759A665CA2A8D22E927386749BB81DEA5D6BB8C2D32AEF61", "hex digits")]
    [InlineData("sha1:AFDDF969500EF825759A665CA2A8D22E92738674", "64 hex digits")]
    public void Refuses_anything_else_saying_why(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => CertificatePin.Parse(text));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(CertificatePin.TryParse(text, out _, out var tryError));
        Assert.Equal(error.Message, tryError);
    }

    [Fact]
    public void Matches_exactly_the_certificate_it_names()
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest("CN=a", key, HashAlgorithmName.SHA256);
        using var one = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var other = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(2));
        var pin = CertificatePin.Parse(Convert.ToHexString(one.GetCertHash(HashAlgorithmName.SHA256)));
        Assert.True(pin.Matches(one));
        Assert.False(pin.Matches(other));
    }
}
