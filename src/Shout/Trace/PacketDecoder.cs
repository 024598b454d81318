using System.Net;
using PacketDotNet;

namespace Shout.Trace;

/// <summary>Reads what a trace needs from a packet decoded by PacketDotNet (no parsing by hand).</summary>
internal static class PacketDecoder
{
    /// <summary>Decodes raw link-layer bytes (as a capture delivers them); null when not TCP or UDP over IP.</summary>
    public static TracedPacket? Decode(LinkLayers linkLayer, byte[] data, DateTimeOffset time)
    {
        Packet packet;
        try
        {
            packet = Packet.ParsePacket(linkLayer, data);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or NotImplementedException)
        {
            // A truncated or unknown frame: not ours to draw.
            return null;
        }

        return From(packet, time);
    }

    /// <summary>The TCP segment or UDP datagram inside <paramref name="packet"/>; null when there is none.</summary>
    public static TracedPacket? From(Packet packet, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var ip = packet.Extract<IPPacket>();
        if (ip is null)
        {
            return null;
        }

        if (ip.PayloadPacket is TcpPacket tcp)
        {
            var flags = (tcp.Synchronize ? TcpControlBits.Syn : 0) | (tcp.Finished ? TcpControlBits.Fin : 0) | (tcp.Reset ? TcpControlBits.Rst : 0)
                | (tcp.Push ? TcpControlBits.Psh : 0) | (tcp.Acknowledgment ? TcpControlBits.Ack : 0);

            // The declared length, not the captured one: the capture keeps only the first bytes.
            var length = Math.Max(0, ip.PayloadLength - tcp.DataOffset * 4);
            return new TracedPacket(time, TraceProtocol.Tcp, new IPEndPoint(ip.SourceAddress, tcp.SourcePort),
                new IPEndPoint(ip.DestinationAddress, tcp.DestinationPort), flags, tcp.SequenceNumber,
                tcp.Acknowledgment ? tcp.AcknowledgmentNumber : 0, length, Head(tcp), tcp.WindowSize);
        }

        if (ip.PayloadPacket is UdpPacket udp)
        {
            return new TracedPacket(time, TraceProtocol.Udp, new IPEndPoint(ip.SourceAddress, udp.SourcePort),
                new IPEndPoint(ip.DestinationAddress, udp.DestinationPort), TcpControlBits.None, 0, 0,
                Math.Max(0, udp.Length - UdpFields.HeaderLength), Head(udp));
        }

        return null;
    }

    // The payload's declared segment can run past the captured bytes (the snap length cut it):
    // take only what was captured, up to the preview's size.
    private static ReadOnlyMemory<byte> Head(Packet transport)
    {
        if (transport.PayloadDataSegment is not { } segment || segment.Offset >= segment.Bytes.Length)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var available = Math.Min(segment.Length, segment.Bytes.Length - segment.Offset);
        return segment.Bytes.AsMemory(segment.Offset, Math.Min(available, TracedPacket.PreviewBytes)).ToArray();
    }
}
