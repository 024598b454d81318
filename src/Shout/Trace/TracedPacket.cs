using System.Net;

namespace Shout.Trace;

/// <summary>The TCP flags a trace shows (a subset of the header's: URG, ECE and CWR are left out).</summary>
[Flags]
internal enum TcpControlBits
{
    /// <summary>No flag: a UDP datagram, or a TCP segment with none of the shown flags.</summary>
    None = 0,

    /// <summary>Synchronize: opens a connection and carries the sender's initial sequence number.</summary>
    Syn = 1,

    /// <summary>Finish: the sender has nothing more to send (one half of the four-way close).</summary>
    Fin = 2,

    /// <summary>Reset: the connection is abandoned at once.</summary>
    Rst = 4,

    /// <summary>Push: deliver the data to the application now.</summary>
    Psh = 8,

    /// <summary>The acknowledgement number is valid.</summary>
    Ack = 16,
}

/// <summary>TCP or UDP.</summary>
internal enum TraceProtocol
{
    /// <summary>A TCP segment.</summary>
    Tcp,

    /// <summary>A UDP datagram.</summary>
    Udp,
}

/// <summary>
/// One decoded packet: what the trace needs of it and nothing else, so the tracker is pure and
/// can be fed by a capture, a file or a test alike.
/// </summary>
/// <param name="Time">When it was captured.</param>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Source">Sender's address and port.</param>
/// <param name="Destination">Receiver's address and port.</param>
/// <param name="Flags">TCP flags (none for UDP).</param>
/// <param name="Sequence">TCP sequence number as on the wire (0 for UDP).</param>
/// <param name="Acknowledgement">TCP acknowledgement number as on the wire (0 for UDP or without ACK).</param>
/// <param name="PayloadLength">Payload bytes as the headers declare them (not only the captured part).</param>
/// <param name="Payload">The first captured payload bytes (at most <see cref="PreviewBytes"/>).</param>
/// <param name="Window">The TCP window field as on the wire (unscaled; 0 is a zero window), or -1 when unknown (UDP).</param>
internal sealed record TracedPacket(DateTimeOffset Time, TraceProtocol Protocol, IPEndPoint Source, IPEndPoint Destination,
    TcpControlBits Flags, uint Sequence, uint Acknowledgement, int PayloadLength, ReadOnlyMemory<byte> Payload, int Window = -1)
{
    /// <summary>How many payload bytes are kept for the preview.</summary>
    public const int PreviewBytes = 64;
}
