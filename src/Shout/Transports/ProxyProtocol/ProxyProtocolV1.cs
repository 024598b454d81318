using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Shout.Transports.ProxyProtocol;

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
