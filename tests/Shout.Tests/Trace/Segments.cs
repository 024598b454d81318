using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using Shout.Trace;

namespace Shout.Tests.Trace;

/// <summary>
/// Builds packets with PacketDotNet, as Ethernet frames (the link type of Linux's <c>lo</c>), and
/// decodes them through <see cref="PacketDecoder"/>, so the tests run the same decoding as a capture.
/// Client 127.0.0.1:40000 (initial number <see cref="X"/>), server 127.0.0.1:8080 (<see cref="Y"/>).
/// </summary>
internal sealed class Segments
{
    public const uint X = 1_000_000;
    public const uint Y = 4_294_967_000; // close to 2^32: relative numbers must survive the wrap.
    public static readonly IPEndPoint Client = new(IPAddress.Loopback, 40000);
    public static readonly IPEndPoint Server = new(IPAddress.Loopback, 8080);

    // lo's frames carry all-zero hardware addresses.
    private static readonly PhysicalAddress Zero = new(new byte[6]);

    private DateTimeOffset _time = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A segment from the client (true) or server, its numbers given relative to X and Y.</summary>
    public TracedPacket Tcp(bool fromClient, string flags, uint seq, uint? ack = null, string payload = "", int keep = int.MaxValue) =>
        Tcp(fromClient, flags, seq, ack, System.Text.Encoding.ASCII.GetBytes(payload), keep);

    /// <summary>Lets <paramref name="milliseconds"/> pass before the next packet (each packet is 1 ms after the one before otherwise).</summary>
    public void Wait(double milliseconds) => _time = _time.AddMilliseconds(milliseconds);

    /// <summary>A bare ACK advertising <paramref name="window"/> (0: a zero window).</summary>
    public TracedPacket Ack(bool fromClient, uint seq, uint ack, ushort window) => Tcp(fromClient, "", seq, ack, [], window: window);

    public TracedPacket Tcp(bool fromClient, string flags, uint seq, uint? ack, byte[] payload, int keep = int.MaxValue, ushort window = 65535)
    {
        var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
        var tcp = new TcpPacket((ushort)source.Port, (ushort)destination.Port)
        {
            SequenceNumber = (fromClient ? X : Y) + seq,
            AcknowledgmentNumber = ack is { } a ? (fromClient ? Y : X) + a : 0,
            Synchronize = flags.Contains("SYN", StringComparison.Ordinal),
            Finished = flags.Contains("FIN", StringComparison.Ordinal),
            Reset = flags.Contains("RST", StringComparison.Ordinal),
            Push = flags.Contains("PSH", StringComparison.Ordinal),
            Acknowledgment = ack is not null,
            WindowSize = window,
            PayloadData = payload,
        };
        return Frame(source, destination, tcp, keep);
    }

    public TracedPacket Udp(bool fromClient, string payload)
    {
        var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
        var udp = new UdpPacket((ushort)source.Port, (ushort)destination.Port) { PayloadData = System.Text.Encoding.ASCII.GetBytes(payload) };
        return Frame(source, destination, udp, int.MaxValue);
    }

    public TracedPacket Other(int sourcePort, int destinationPort) =>
        Frame(new IPEndPoint(IPAddress.Loopback, sourcePort), new IPEndPoint(IPAddress.Loopback, destinationPort),
            new TcpPacket((ushort)sourcePort, (ushort)destinationPort) { Synchronize = true }, int.MaxValue);

    private TracedPacket Frame(IPEndPoint source, IPEndPoint destination, TransportPacket transport, int keep)
    {
        var ip = new IPv4Packet(source.Address, destination.Address) { PayloadPacket = transport, TimeToLive = 64 };
        var ethernet = new EthernetPacket(Zero, Zero, EthernetType.IPv4) { PayloadPacket = ip };
        ip.UpdateCalculatedValues();
        transport.UpdateCalculatedValues();
        var bytes = ethernet.Bytes;
        _time = _time.AddMilliseconds(1);

        // A capture keeps only the first bytes of a frame (its snap length): keep simulates that.
        var captured = bytes.Length > keep ? bytes[..keep] : bytes;
        return PacketDecoder.Decode(LinkLayers.Ethernet, captured, _time) ?? throw new InvalidOperationException("the frame did not decode");
    }
}
