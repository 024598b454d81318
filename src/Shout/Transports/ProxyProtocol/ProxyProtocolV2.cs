using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace Shout.Transports.ProxyProtocol;

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
