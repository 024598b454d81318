using System.Buffers;

namespace Shout.Transports.ProxyProtocol;

/// <summary>
/// The PROXY protocol (HAProxy's, versions 1 and 2) as sent by a load balancer before the client's
/// bytes: a pure parser over whatever has arrived so far. It never reads past the header's declared
/// length, so the client's bytes after it are left to the caller untouched; it never throws on any
/// input; it answers <see cref="ProxyParseStatus.NeedMoreData"/> only while the bytes so far can
/// still become a valid header (so a v1 line is rejected at 107 bytes without CRLF). Thread-safe.
/// </summary>
/// <remarks>Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt</remarks>
internal static class ProxyProtocolParser
{
    /// <summary>The longest v1 header, CRLF included.</summary>
    public const int MaxV1Length = 107;

    /// <summary>The fixed part of a v2 header: signature, version/command, family, length.</summary>
    public const int V2FixedLength = 16;

    private static ReadOnlySpan<byte> V2Signature => "\r\n\r\n\0\r\nQUIT\n"u8;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>Parses the start of <paramref name="input"/>, which must begin at the connection's first byte.</summary>
    public static ProxyParseResult Parse(ReadOnlySequence<byte> input)
    {
        Span<byte> head = stackalloc byte[V2FixedLength];
        var available = (int)Math.Min(input.Length, V2FixedLength);
        head = head[..available];
        input.Slice(0, available).CopyTo(head);

        if (IsPrefix(head, V2Signature))
        {
            return available < V2FixedLength ? ProxyParseResult.More : ProxyProtocolV2.Parse(input, head);
        }

        if (IsPrefix(head, V1Prefix))
        {
            return available < V1Prefix.Length ? ProxyParseResult.More : ProxyProtocolV1.Parse(input);
        }

        return ProxyParseResult.Fail("not a PROXY protocol header");
    }

    /// <summary>True when the shorter of the two is a prefix of the other.</summary>
    private static bool IsPrefix(ReadOnlySpan<byte> head, ReadOnlySpan<byte> signature)
    {
        var n = Math.Min(head.Length, signature.Length);
        return head[..n].SequenceEqual(signature[..n]);
    }
}
