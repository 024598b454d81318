using System.Buffers;
using System.Net;
using System.Text;
using Shout.Transports.ProxyProtocol;

namespace Shout.Tests.Transports.ProxyProtocol;

/// <summary>RELIABILITY.md row 14's vector table, and the valid headers of both versions.</summary>
public sealed class ProxyProtocolParserTests
{
    private static readonly IPEndPoint Client4 = IPEndPoint.Parse("203.0.113.7:51000");
    private static readonly IPEndPoint Proxy4 = IPEndPoint.Parse("192.0.2.1:8080");
    private static readonly IPEndPoint Client6 = IPEndPoint.Parse("[2001:db8::7]:51000");
    private static readonly IPEndPoint Proxy6 = IPEndPoint.Parse("[2001:db8::1]:8080");

    private static ProxyParseResult Parse(byte[] bytes) => ProxyProtocolParser.Parse(new ReadOnlySequence<byte>(bytes));

    private static ProxyParseResult Parse(string text) => Parse(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void V1_tcp4_gives_the_client_and_the_header_length()
    {
        var header = ProxyHeaderWriter.V1(Client4, Proxy4);
        var result = Parse([.. header, .. "hello"u8.ToArray()]);
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Equal(header.Length, result.Consumed);
        Assert.Equal(new ProxyHeader(1, Client4, Proxy4), result.Header);
    }

    [Fact]
    public void V1_tcp6_and_unknown()
    {
        Assert.Equal(new ProxyHeader(1, Client6, Proxy6), Parse(ProxyHeaderWriter.V1(Client6, Proxy6)).Header);
        var unknown = Parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nrest");
        Assert.Equal(ProxyParseStatus.Done, unknown.Status);
        Assert.Equal(new ProxyHeader(1, null, null), unknown.Header);
        Assert.Equal(35, unknown.Consumed);
    }

    [Fact]
    public void V1_of_the_maximum_length_is_accepted()
    {
        // The spec's worst case is UNKNOWN with two full IPv6 addresses.
        var max = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        Assert.Equal(ProxyProtocolParser.MaxV1Length, max.Length);
        Assert.Equal(ProxyParseStatus.Done, Parse(max).Status);
    }

    [Fact]
    public void V2_inet_inet6_with_tlvs_and_local()
    {
        var tlvs = ProxyHeaderWriter.Tlv(0x04, [0, 0]).Concat(ProxyHeaderWriter.Tlv(0xEA, "vpce-1"u8)).ToArray();
        var v4 = ProxyHeaderWriter.V2(Client4, Proxy4, tlvs);
        var result = Parse([.. v4, .. "x"u8.ToArray()]);
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Equal(v4.Length, result.Consumed);
        Assert.Equal(new ProxyHeader(2, Client4, Proxy4), result.Header);

        Assert.Equal(new ProxyHeader(2, Client6, Proxy6), Parse(ProxyHeaderWriter.V2(Client6, Proxy6)).Header);

        var local = Parse(ProxyHeaderWriter.V2Local());
        Assert.Equal(ProxyParseStatus.Done, local.Status);
        Assert.Equal(new ProxyHeader(2, null, null), local.Header);
    }

    public static TheoryData<string, byte[]> InvalidVectors()
    {
        var v2 = ProxyHeaderWriter.V2(Client4, Proxy4);
        byte[] With(int index, byte value)
        {
            var copy = (byte[])v2.Clone();
            copy[index] = value;
            return copy;
        }

        byte[] WithLength(byte[] header, int length, int bodyBytes)
        {
            var copy = header[..16].Concat(header[16..].Take(bodyBytes)).ToArray();
            copy[14] = (byte)(length >> 8);
            copy[15] = (byte)length;
            return copy;
        }

        var overrun = ProxyHeaderWriter.V2(Client4, Proxy4, [0x04, 0x00, 0x09, 1, 2]);
        var cutTlv = ProxyHeaderWriter.V2(Client4, Proxy4, [0x04, 0x00]);
        return new TheoryData<string, byte[]>
        {
            { "no CRLF in 107 bytes", Encoding.ASCII.GetBytes("PROXY TCP4 " + new string('1', 96)) },
            { "lone LF", Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.7 192.0.2.1 51000 8080\n") },
            { "not a header at all", "GET / HTTP/1.1\r\n"u8.ToArray() },
            { "lowercase proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 family mismatch", "PROXY TCP4 ::1 ::2 1 2\r\n"u8.ToArray() },
            { "v1 short dotted quad", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 octet over 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 leading zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"u8.ToArray() },
            { "v1 negative port", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"u8.ToArray() },
            { "v1 double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"u8.ToArray() },
            { "v1 scoped ipv6", "PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n"u8.ToArray() },
            { "v1 NUL inside", "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"u8.ToArray() },
            { "v1 binary before any LF: refused at once", "PROXY \u0016\u0003\u0001"u8.ToArray() },
            { "v1 CR not followed by LF", "PROXY TCP4\r 1.2"u8.ToArray() },
            { "v2 bad version", With(12, 0x11) },
            { "v2 bad command", With(12, 0x22) },
            { "v2 bad family", With(13, 0x41) },
            { "v2 bad protocol", With(13, 0x13) },
            { "v2 datagram on a stream listener", With(13, 0x12) },
            { "v2 truncated inet address", WithLength(v2, 11, 11) },
            { "v2 truncated inet6 address", WithLength(ProxyHeaderWriter.V2(Client6, Proxy6), 35, 35) },
            { "v2 TLV overrun", overrun },
            { "v2 TLV header cut", cutTlv },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidVectors))]
    public void Invalid_vectors_are_rejected(string name, byte[] bytes)
    {
        var result = Parse(bytes);
        Assert.True(result.Status == ProxyParseStatus.Invalid, $"{name}: {result.Status}");
        Assert.False(string.IsNullOrEmpty(result.Error));
    }

    public static TheoryData<string, byte[]> IncompleteVectors() => new()
    {
        { "nothing yet", [] },
        { "half a v2 signature", "\r\n\r\n\0"u8.ToArray() },
        { "v2 length overrun: declares more than arrived", ProxyHeaderWriter.V2(Client4, Proxy4)[..^1] },
        { "v2 fixed part only", ProxyHeaderWriter.V2(Client4, Proxy4)[..16] },
        { "PROX", "PROX"u8.ToArray() },
        { "v1 without its end", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(IncompleteVectors))]
    public void Incomplete_vectors_ask_for_more(string name, byte[] bytes) =>
        Assert.True(Parse(bytes).Status == ProxyParseStatus.NeedMoreData, name);

    [Fact]
    public void One_byte_segments_parse_like_one_buffer()
    {
        foreach (var header in new[] { ProxyHeaderWriter.V1(Client6, Proxy6), ProxyHeaderWriter.V2(Client6, Proxy6, ProxyHeaderWriter.Tlv(1, "h2"u8)) })
        {
            var input = header.Concat("tail"u8.ToArray()).ToArray();
            var result = ProxyProtocolParser.Parse(Segments.Build([.. input.Select(b => new[] { b })]));
            Assert.Equal(Parse(input), result);
            Assert.Equal(header.Length, result.Consumed);
        }
    }
}
