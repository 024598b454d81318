using System.Net;
using System.Text;
using Shout.Text;
using Shout.Transports.Udp;

namespace Shout.Tests.Transports.Udp;

public sealed class UdpReplyRuleTests
{
    [Fact]
    public void A_reply_that_fits_is_the_whole_uppercase()
    {
        var datagram = Encoding.UTF8.GetBytes("hello ȿ 😀");
        var reply = new byte[UdpReplyRule.ReplyBufferSize];
        var written = UdpReplyRule.Compose(datagram, reply, UdpReplyRule.MaxIPv4Payload, out var truncated);
        Assert.False(truncated);
        Assert.Equal(ShoutCase.ToUpper(datagram), reply[..written]);
    }

    [Theory]
    [InlineData(10, 9)]
    [InlineData(11, 9)]
    [InlineData(12, 12)]
    [InlineData(65_507, 65_505)]
    public void A_reply_over_the_limit_is_cut_before_the_first_character_that_does_not_fit(int max, int expected)
    {
        var datagram = Encoding.UTF8.GetBytes(new string('ȿ', 32_753));
        var reply = new byte[UdpReplyRule.ReplyBufferSize];
        var written = UdpReplyRule.Compose(datagram, reply, max, out var truncated);
        Assert.True(truncated);
        Assert.Equal(expected, written);
        Assert.Equal(new string('Ȿ', expected / 3), Encoding.UTF8.GetString(reply, 0, written));
    }

    [Fact]
    public void Invalid_bytes_at_the_limit_are_cut_whole_too()
    {
        // An invalid byte is copied as it is, so it counts one for one.
        byte[] datagram = [(byte)'a', 0xFF, 0xFE, (byte)'b'];
        var reply = new byte[16];
        var written = UdpReplyRule.Compose(datagram, reply, 3, out var truncated);
        Assert.True(truncated);
        Assert.Equal(new byte[] { (byte)'A', 0xFF, 0xFE }, reply[..written]);
    }

    [Theory]
    [InlineData("127.0.0.1", UdpReplyRule.MaxIPv4Payload)]
    [InlineData("::1", UdpReplyRule.MaxIPv6Payload)]
    [InlineData("::ffff:127.0.0.1", UdpReplyRule.MaxIPv4Payload)]
    [InlineData("fe80::ffff:1", UdpReplyRule.MaxIPv6Payload)]
    public void The_limit_follows_the_peer_family_including_IPv4_mapped_peers(string address, int max) =>
        Assert.Equal(max, UdpReplyRule.MaxPayload(new IPEndPoint(IPAddress.Parse(address), 9).Serialize()));
}
