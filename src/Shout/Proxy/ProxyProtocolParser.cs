using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Shout.Proxy;

/// <summary>
/// The PROXY protocol (HAProxy's, versions 1 and 2) as sent by a load balancer before the client's
/// bytes: a pure parser over whatever has arrived so far. It never reads past the header's declared
/// length, so the client's bytes after it are left to the caller untouched; it never throws on any
/// input; it answers <see cref="ProxyParseStatus.NeedMoreData"/> only while the bytes so far can
/// still become a valid header (so a v1 line is rejected at 107 bytes without CRLF). Thread-safe.
/// </summary>
/// <remarks>Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt</remarks>
public static class ProxyProtocolParser
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

/// <summary>Version 2: the binary header (12-byte signature, version/command, family, length, addresses, TLVs).</summary>
internal static class ProxyProtocolV2
{
    public static ProxyParseResult Parse(ReadOnlySequence<byte> input, ReadOnlySpan<byte> head)
    {
        var version = head[12] >> 4;
        var command = head[12] & 0x0F;
        if (version != 2)
        {
            return ProxyParseResult.Fail($"v2 header with version {version}");
        }

        if (command > 1)
        {
            return ProxyParseResult.Fail($"v2 header with unknown command {command}");
        }

        var family = head[13] >> 4;
        var protocol = head[13] & 0x0F;
        if (family > 3 || protocol > 2)
        {
            return ProxyParseResult.Fail($"v2 header with unknown family/protocol 0x{head[13]:X2}");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(head[14..]);
        long total = ProxyProtocolParser.V2FixedLength + length;
        if (input.Length < total)
        {
            return ProxyParseResult.More;
        }

        // LOCAL: the proxy speaks for itself (health checks); whatever follows inside length is skipped.
        if (command == 0)
        {
            return ProxyParseResult.Ok(total, new ProxyHeader(2, null, null));
        }

        if (protocol == 2)
        {
            return ProxyParseResult.Fail("v2 header for a datagram connection on a stream listener");
        }

        var addressLength = family switch
        {
            1 => 12,
            2 => 36,
            3 => 216,
            _ => 0,
        };
        if (length < addressLength)
        {
            return ProxyParseResult.Fail($"v2 header too short for its addresses ({length} < {addressLength} bytes)");
        }

        var body = input.Slice(ProxyProtocolParser.V2FixedLength, length);
        if (!TlvsFit(body.Slice(addressLength), out var tlvError))
        {
            return ProxyParseResult.Fail(tlvError);
        }

        var (source, destination) = family switch
        {
            1 => ReadInet(body, 4),
            2 => ReadInet(body, 16),
            _ => (null, null),
        };
        return ProxyParseResult.Ok(total, new ProxyHeader(2, source, destination));
    }

    private static (IPEndPoint, IPEndPoint) ReadInet(ReadOnlySequence<byte> body, int size)
    {
        Span<byte> bytes = stackalloc byte[(2 * size) + 4];
        body.Slice(0, bytes.Length).CopyTo(bytes);
        var source = new IPAddress(bytes[..size]);
        var destination = new IPAddress(bytes[size..(2 * size)]);
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * size)..]);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(bytes[((2 * size) + 2)..]);
        return (new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort));
    }

    /// <summary>Every TLV (type, 16-bit length, value) must end within the declared length.</summary>
    private static bool TlvsFit(ReadOnlySequence<byte> tlvs, out string error)
    {
        var reader = new SequenceReader<byte>(tlvs);
        while (!reader.End)
        {
            if (reader.Remaining < 3)
            {
                error = $"v2 TLV header cut off ({reader.Remaining} bytes left)";
                return false;
            }

            reader.Advance(1);
            reader.TryReadBigEndian(out short signedLength);
            var valueLength = (ushort)signedLength;
            if (reader.Remaining < valueLength)
            {
                error = $"v2 TLV of {valueLength} bytes overruns the header ({reader.Remaining} bytes left)";
                return false;
            }

            reader.Advance(valueLength);
        }

        error = "";
        return true;
    }
}

/// <summary>Version 1: one ASCII line, <c>PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n</c>, at most 107 bytes.</summary>
internal static class ProxyProtocolV1
{
    public static ProxyParseResult Parse(ReadOnlySequence<byte> input)
    {
        var window = input.Slice(0, Math.Min(input.Length, ProxyProtocolParser.MaxV1Length));
        if (window.PositionOf((byte)'\n') is not { } newline)
        {
            return window.Length >= ProxyProtocolParser.MaxV1Length
                ? ProxyParseResult.Fail($"v1 header without CRLF in {ProxyProtocolParser.MaxV1Length} bytes")
                : CanStillBeALine(window) ? ProxyParseResult.More
                : ProxyParseResult.Fail("v1 header with a byte that is not printable ASCII");
        }

        var lineWithCr = window.Slice(0, newline);
        Span<byte> bytes = stackalloc byte[ProxyProtocolParser.MaxV1Length];
        var line = bytes[..(int)lineWithCr.Length];
        lineWithCr.CopyTo(line);
        if (line.Length == 0 || line[^1] != '\r')
        {
            return ProxyParseResult.Fail("v1 header ended by a lone LF");
        }

        line = line[..^1];
        foreach (var b in line)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return ProxyParseResult.Fail("v1 header with a byte that is not printable ASCII");
            }
        }

        var consumed = lineWithCr.Length + 1;
        var text = System.Text.Encoding.ASCII.GetString(line);
        var fields = text.Split(' ');
        if (fields.Length >= 2 && fields[1] == "UNKNOWN")
        {
            return ProxyParseResult.Ok(consumed, new ProxyHeader(1, null, null));
        }

        if (fields.Length != 6)
        {
            return ProxyParseResult.Fail("v1 header needs PROXY, a protocol, two addresses and two ports, separated by single spaces");
        }

        var family = fields[1] switch
        {
            "TCP4" => AddressFamily.InterNetwork,
            "TCP6" => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        if (family == AddressFamily.Unknown)
        {
            return ProxyParseResult.Fail($"v1 header with unknown protocol '{fields[1]}'");
        }

        if (!TryParseAddress(fields[2], family, out var source) || !TryParseAddress(fields[3], family, out var destination))
        {
            return ProxyParseResult.Fail($"v1 header with an address that is not {fields[1]}");
        }

        if (!TryParsePort(fields[4], out var sourcePort) || !TryParsePort(fields[5], out var destinationPort))
        {
            return ProxyParseResult.Fail("v1 header with a port that is not 0 to 65535");
        }

        return ProxyParseResult.Ok(consumed, new ProxyHeader(1, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort)));
    }

    /// <summary>
    /// Printable ASCII, with at most a CR as the last byte so far: anything else can never end in a
    /// valid line, so it is refused at once rather than left waiting for the header timeout.
    /// </summary>
    private static bool CanStillBeALine(ReadOnlySequence<byte> partial)
    {
        var reader = new SequenceReader<byte>(partial);
        while (reader.TryRead(out var b))
        {
            if (b is < 0x20 or > 0x7E && !(b == '\r' && reader.End))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Dotted quads without leading zeros for TCP4; plain IPv6 (no scope, no brackets) for TCP6.</summary>
    private static bool TryParseAddress(string text, AddressFamily family, out IPAddress address)
    {
        address = IPAddress.None;
        if (family == AddressFamily.InterNetwork)
        {
            var parts = text.Split('.');
            if (parts.Length != 4 || !parts.All(p => IsDecimal(p, 3) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255))
            {
                return false;
            }
        }
        else if (text.Length == 0 || !text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address!) && address.AddressFamily == family;
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        return IsDecimal(text, 5) && (port = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)) <= 65535;
    }

    /// <summary>1 to <paramref name="maxDigits"/> ASCII digits with no leading zero (except "0").</summary>
    private static bool IsDecimal(string text, int maxDigits) =>
        text.Length >= 1 && text.Length <= maxDigits && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0');
}
