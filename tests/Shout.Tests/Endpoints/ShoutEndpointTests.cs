using Shout.Endpoints;

namespace Shout.Tests.Endpoints;

public sealed class ShoutEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", ShoutTransport.Tcp, "127.0.0.1", 8080, "tcp://127.0.0.1:8080")]
    [InlineData("tcp://0.0.0.0:8080", ShoutTransport.Tcp, "0.0.0.0", 8080, "tcp://0.0.0.0:8080")]
    [InlineData("TCP://localhost:1", ShoutTransport.Tcp, "localhost", 1, "tcp://localhost:1")]
    [InlineData("udp://[::1]:9", ShoutTransport.Udp, "::1", 9, "udp://[::1]:9")]
    [InlineData("tls://example.test:8443", ShoutTransport.Tls, "example.test", 8443, "tls://example.test:8443")]
    [InlineData("[::]:0", ShoutTransport.Tcp, "::", 0, "tcp://[::]:0")]
    [InlineData("tls://[::1]:8443", ShoutTransport.Tls, "::1", 8443, "tls://[::1]:8443")]
    [InlineData("udp://0.0.0.0:8080", ShoutTransport.Udp, "0.0.0.0", 8080, "udp://0.0.0.0:8080")]
    [InlineData("udp://localhost:9", ShoutTransport.Udp, "localhost", 9, "udp://localhost:9")]
    [InlineData("ws://localhost:8081", ShoutTransport.WebSocket, "localhost", 8081, "ws://localhost:8081/ws")]
    public void Parses_ip_endpoints(string text, ShoutTransport transport, string host, int port, string canonical)
    {
        var endpoint = ShoutEndpoint.Parse(text);
        Assert.Equal(transport, endpoint.Transport);
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(canonical, endpoint.ToString());
    }

    [Fact]
    public void Parses_unix_paths()
    {
        var endpoint = ShoutEndpoint.Parse("unix:///tmp/shout.sock");
        Assert.Equal(ShoutTransport.Unix, endpoint.Transport);
        Assert.Equal("/tmp/shout.sock", endpoint.Path);
        Assert.Equal("unix:///tmp/shout.sock", endpoint.ToString());
    }

    [Fact]
    public void A_unix_path_may_have_108_bytes_and_no_more()
    {
        var longest = "/tmp/" + new string('s', ShoutEndpoint.MaxUnixPathBytes - 5);
        Assert.Equal(longest, ShoutEndpoint.Parse("unix://" + longest).Path);
        var error = Assert.Throws<FormatException>(() => ShoutEndpoint.Parse("unix://" + longest + "s"));
        Assert.Contains("at most 108 bytes, this one has 109", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty address")]
    [InlineData("localhost", "missing port")]
    [InlineData("ftp://x:1", "unknown scheme")]
    [InlineData("::1:8080", "brackets")]
    [InlineData("[::1]8080", "[ADDRESS]:PORT")]
    [InlineData("[nope]:80", "not an IPv6 address")]
    [InlineData("host:99999", "not a number from 0 to 65535")]
    [InlineData("host:-1", "not a number")]
    [InlineData(":80", "missing host")]
    [InlineData("unix://", "needs a path")]
    [InlineData("tls://[::1]", "[ADDRESS]:PORT")]
    [InlineData("udp://host", "missing port")]
    [InlineData("tls://[::1:8443", "[ADDRESS]:PORT")]
    public void Malformed_addresses_say_what_is_wrong(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => ShoutEndpoint.Parse(text));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(ShoutEndpoint.TryParse(text, out _, out var tryError));
        Assert.Equal(error.Message, tryError);
    }
}
