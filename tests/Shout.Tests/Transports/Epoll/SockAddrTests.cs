using System.Net.Sockets;
using System.Net;
using Shout.Transports.Epoll;

namespace Shout.Tests.Transports.Epoll;

/// <summary>The epoll connection's inline socket address: the kernel's bytes back to the endpoint a Socket would report.</summary>
public sealed class SockAddrTests
{
    [Theory]
    [InlineData("127.0.0.1", 8080)]
    [InlineData("::1", 1)]
    [InlineData("::ffff:10.1.2.3", 65535)]
    [InlineData("fe80::1%2", 443)]
    public void IP_addresses_fit_inline_and_come_back_as_the_same_endpoint(string address, int port)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), port);
        var raw = endpoint.Serialize().Buffer.Span;
        Assert.True(SockAddr.IsIP(raw));
        Assert.True(raw.Length <= SockAddr.Size);

        var copy = default(SockAddr);
        raw.CopyTo(copy);
        Assert.Equal(endpoint, SockAddr.ToEndPoint(((ReadOnlySpan<byte>)copy)[..raw.Length]));
    }

    [Fact]
    public void A_Unix_address_is_not_kept_inline_and_comes_back_as_its_path()
    {
        var raw = new UnixDomainSocketEndPoint("/run/shout.sock").Serialize().Buffer.Span;
        Assert.False(SockAddr.IsIP(raw));
        Assert.Equal("/run/shout.sock", SockAddr.ToEndPoint(raw)!.ToString());
    }

    [Fact]
    public void No_address_is_no_endpoint()
    {
        Assert.False(SockAddr.IsIP([]));
        Assert.Null(SockAddr.ToEndPoint([]));
    }
}
