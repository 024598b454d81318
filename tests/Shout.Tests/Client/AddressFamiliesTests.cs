using System.Net;
using System.Net.Sockets;
using Shout.Client;

namespace Shout.Tests.Client;

/// <summary>The one filter behind <c>-4</c>/<c>-6</c> (<see cref="AddressFamilies"/>).</summary>
public sealed class AddressFamiliesTests
{
    private static readonly IPAddress[] Both = [IPAddress.IPv6Loopback, IPAddress.Loopback, IPAddress.Parse("192.0.2.1")];

    [Fact]
    public void A_family_keeps_only_its_addresses_in_the_resolvers_order()
    {
        Assert.Equal([IPAddress.Loopback, IPAddress.Parse("192.0.2.1")], AddressFamilies.Keep(Both, AddressFamily.InterNetwork));
        Assert.Equal([IPAddress.IPv6Loopback], AddressFamilies.Keep(Both, AddressFamily.InterNetworkV6));
        Assert.Equal(Both, AddressFamilies.Keep(Both, null));
    }

    [Fact]
    public void A_literal_of_the_other_family_is_named_and_a_name_is_left_to_the_resolver()
    {
        Assert.Equal("127.0.0.1 is an IPv4 address, and only IPv6 was asked for", AddressFamilies.LiteralMismatch("127.0.0.1", AddressFamily.InterNetworkV6));
        Assert.Equal("::1 is an IPv6 address, and only IPv4 was asked for", AddressFamilies.LiteralMismatch("::1", AddressFamily.InterNetwork));
        Assert.Null(AddressFamilies.LiteralMismatch("127.0.0.1", AddressFamily.InterNetwork));
        Assert.Null(AddressFamilies.LiteralMismatch("localhost", AddressFamily.InterNetworkV6));
        Assert.Null(AddressFamilies.LiteralMismatch("::1", null));
    }
}
