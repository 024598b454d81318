using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Shout.Transports.ProxyProtocol;

/// <summary>
/// Writes PROXY headers as a load balancer does: the parser's counterpart, used by the tests and by
/// anything that needs to speak to a Shout behind <c>--proxy-protocol</c> directly.
/// </summary>
internal static class ProxyHeaderWriter
{
    /// <summary><c>PROXY TCP4|TCP6 src dst sport dport\r\n</c>.</summary>
    public static byte[] V1(IPEndPoint source, IPEndPoint destination)
    {
        var protocol = source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        return System.Text.Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"PROXY {protocol} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n"));
    }

    /// <summary>A v2 PROXY (command 1) header over STREAM, with optional raw TLV bytes appended.</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> tlvs = default)
    {
        var v4 = source.AddressFamily == AddressFamily.InterNetwork;
        var size = v4 ? 4 : 16;
        var addressLength = (2 * size) + 4;
        var header = new byte[ProxyProtocolParser.V2FixedLength + addressLength + tlvs.Length];
        "\r\n\r\n\0\r\nQUIT\n"u8.CopyTo(header);
        header[12] = 0x21;
        header[13] = (byte)(v4 ? 0x11 : 0x21);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(addressLength + tlvs.Length));
        var body = header.AsSpan(ProxyProtocolParser.V2FixedLength);
        source.Address.TryWriteBytes(body, out _);
        destination.Address.TryWriteBytes(body[size..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(body[(2 * size)..], (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(body[((2 * size) + 2)..], (ushort)destination.Port);
        tlvs.CopyTo(body[addressLength..]);
        return header;
    }

    /// <summary>A v2 LOCAL header (a proxy's own health check): no addresses.</summary>
    public static byte[] V2Local()
    {
        var header = new byte[ProxyProtocolParser.V2FixedLength];
        "\r\n\r\n\0\r\nQUIT\n"u8.CopyTo(header);
        header[12] = 0x20;
        return header;
    }

    /// <summary>One TLV: type, 16-bit big-endian length, value.</summary>
    public static byte[] Tlv(byte type, ReadOnlySpan<byte> value)
    {
        var tlv = new byte[3 + value.Length];
        tlv[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(tlv.AsSpan(1), (ushort)value.Length);
        value.CopyTo(tlv.AsSpan(3));
        return tlv;
    }
}
