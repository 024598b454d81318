using System.Net;
using Shout.Sessions;

namespace Shout.Tests.Sessions;

public sealed class AccessListTests
{
    [Theory]
    // No rules: everyone.
    [InlineData("", "", "203.0.113.9", true)]
    [InlineData("", "", "2001:db8::1", true)]
    // Allow list only: inside yes, outside no, other family no.
    [InlineData("10.0.0.0/8", "", "10.255.0.1", true)]
    [InlineData("10.0.0.0/8", "", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "", "2001:db8::1", false)]
    [InlineData("2001:db8::/32", "", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "", "2001:db9::1", false)]
    // Deny list only: everyone else allowed.
    [InlineData("", "192.0.2.0/24", "192.0.2.200", false)]
    [InlineData("", "192.0.2.0/24", "192.0.3.1", true)]
    [InlineData("", "::1", "::1", false)]
    [InlineData("", "::1", "127.0.0.1", true)]
    // Deny wins over a wider (or equal) allow.
    [InlineData("10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", false)]
    [InlineData("10.0.0.0/8", "10.1.0.0/16", "10.2.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.1", "127.0.0.1", false)]
    // IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d and match IPv4 rules.
    [InlineData("10.0.0.0/8", "", "::ffff:10.1.2.3", true)]
    [InlineData("", "10.0.0.0/8", "::ffff:10.1.2.3", false)]
    [InlineData("127.0.0.0/8", "", "::ffff:192.0.2.1", false)]
    // A rule written in mapped form matches too.
    [InlineData("::ffff:10.0.0.0/104", "", "::ffff:10.9.9.9", true)]
    // Edges: /0 is everyone of that family; /32 and /128 one address.
    [InlineData("0.0.0.0/0", "", "198.51.100.7", true)]
    [InlineData("0.0.0.0/0", "", "2001:db8::7", false)]
    [InlineData("::/0", "", "2001:db8::7", true)]
    [InlineData("198.51.100.7/32", "", "198.51.100.8", false)]
    [InlineData("2001:db8::7/128", "", "2001:db8::7", true)]
    public void Decides_by_the_rules(string allow, string deny, string address, bool allowed)
    {
        var list = AccessList.Create(Split(allow), Split(deny));
        Assert.Equal(allowed, list.IsAllowed(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.0.0.1/8", "10.0.0.0/8")]
    [InlineData("not-an-address", "not an IP address")]
    [InlineData("10.0.0.0/33", "from 0 to 32")]
    [InlineData("2001:db8::/129", "from 0 to 128")]
    [InlineData("10.0.0.0/-1", "from 0 to 32")]
    [InlineData("fe80::1%eth0", "not an IP address")]
    public void A_bad_rule_is_a_clear_error(string rule, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AccessList.Create([rule], []));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_access_file_adds_allow_and_deny_lines_and_ignores_comments()
    {
        var list = AccessList.Create(["192.0.2.0/24"], []).With(
        [
            "# office",
            "allow 10.0.0.0/8   # the VPN",
            "",
            "DENY 10.66.0.0/16",
            "deny 2001:db8::/32",
        ]);
        Assert.Equal(2, list.Allow.Count);
        Assert.Equal(2, list.Deny.Count);
        Assert.True(list.IsAllowed(IPAddress.Parse("192.0.2.1")));
        Assert.True(list.IsAllowed(IPAddress.Parse("10.1.1.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("10.66.1.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("2001:db8::1")));
    }

    [Theory]
    [InlineData("permit 10.0.0.0/8", "rules:1")]
    [InlineData("allow", "rules:1")]
    [InlineData("allow 10.0.0.0/8 extra", "rules:1")]
    [InlineData("deny 300.1.1.1", "rules:1")]
    public void A_bad_access_file_line_names_its_number(string line, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AccessList.Everyone.With([line], "rules"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    private static string[] Split(string rules) => rules.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
