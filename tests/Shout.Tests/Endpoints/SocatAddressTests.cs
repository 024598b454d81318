using Shout.Endpoints;

namespace Shout.Tests.Endpoints;

public sealed class SocatAddressTests
{
    [Theory]
    [InlineData("TCP:127.0.0.1:8080", "tcp://127.0.0.1:8080")]
    [InlineData("tcp4:127.0.0.1:8080", "tcp://127.0.0.1:8080")]
    [InlineData("TCP6:[::1]:8080", "tcp://[::1]:8080")]
    [InlineData("UDP:127.0.0.1:9", "udp://127.0.0.1:9")]
    [InlineData("UNIX-CONNECT:/run/x.sock", "unix:///run/x.sock")]
    [InlineData("unix:/run/x.sock", "unix:///run/x.sock")]
    [InlineData("OPENSSL:localhost:8443", "tls://localhost:8443")]
    [InlineData("localhost:8080", "tcp://localhost:8080")]
    public void Socat_forms_read_as_Shout_addresses(string text, string canonical) =>
        Assert.Equal(canonical, ShoutEndpoint.Parse(text).ToString());

    [Fact]
    public void Socat_options_are_refused_by_name()
    {
        var error = Assert.Throws<FormatException>(() => ShoutEndpoint.Parse("TCP:127.0.0.1:8080,reuseaddr"));
        Assert.Equal("'TCP:127.0.0.1:8080,reuseaddr': socat options (',reuseaddr') are not taken; write the address alone, e.g. TCP:127.0.0.1:8080", error.Message);
    }
}
