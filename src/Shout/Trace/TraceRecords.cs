using System.Text.Json.Serialization;

namespace Shout.Trace;

/// <summary>What a trace reports: a packet of a connection, a datagram, or a connection's summary.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TracePacketLine), "packet")]
[JsonDerivedType(typeof(TraceDatagramLine), "datagram")]
[JsonDerivedType(typeof(TraceSummary), "summary")]
internal abstract record TraceRecord(int Connection, DateTimeOffset Time, string Client, string Server);

/// <summary>
/// One TCP segment as the tutorial draws it: who sent it, its flags, its numbers relative to each
/// side's initial sequence number (the client's is <c>x</c>, the server's <c>y</c>) and the state each
/// side enters by it (null: unchanged).
/// </summary>
/// <param name="Connection">The connection's number in this trace, from 1.</param>
/// <param name="Time">Capture time.</param>
/// <param name="Client">The client's address:port.</param>
/// <param name="Server">The server's address:port.</param>
/// <param name="From"><c>client</c> or <c>server</c>.</param>
/// <param name="Flags">e.g. <c>SYN</c>, <c>SYN-ACK</c>, <c>PSH-ACK</c>, <c>FIN-ACK</c>, <c>RST</c>.</param>
/// <param name="Seq">Relative sequence number, e.g. <c>x+1</c>.</param>
/// <param name="SeqOffset">The same number as an offset from the sender's initial one.</param>
/// <param name="Ack">Relative acknowledgement number, e.g. <c>y+1</c>; null without the ACK flag.</param>
/// <param name="AckOffset">The same as an offset from the receiver's initial number; null without ACK.</param>
/// <param name="Length">Payload bytes.</param>
/// <param name="Preview">Printable start of the payload; for TLS only the record type, never the bytes.</param>
/// <param name="ClientState">State the client enters by this packet, e.g. <c>ESTABLISHED</c>; null if unchanged.</param>
/// <param name="ServerState">State the server enters by this packet; null if unchanged.</param>
/// <param name="Retransmission">True when this segment repeats sequence numbers already sent.</param>
/// <param name="ElapsedMs">Milliseconds since the connection's first packet.</param>
/// <param name="GapMs">Milliseconds since the connection's previous packet, either way (0 for its first): a delay on the path shows here.</param>
/// <param name="ZeroWindow">True when the sender advertises a zero window: its receive buffer is full, its peer must wait.</param>
internal sealed record TracePacketLine(int Connection, DateTimeOffset Time, string Client, string Server, string From, string Flags,
    string Seq, long SeqOffset, string? Ack, long? AckOffset, int Length, string? Preview,
    string? ClientState, string? ServerState, bool Retransmission, double ElapsedMs, double GapMs = 0, bool ZeroWindow = false)
    : TraceRecord(Connection, Time, Client, Server);

/// <summary>One UDP datagram: no connection, no numbers, no states.</summary>
internal sealed record TraceDatagramLine(int Connection, DateTimeOffset Time, string Client, string Server, string From, int Length, string? Preview)
    : TraceRecord(Connection, Time, Client, Server);

/// <summary>A TCP connection that ended (both sides closed or in TIME_WAIT, or a reset).</summary>
/// <param name="Connection">The connection's number in this trace.</param>
/// <param name="Time">Time of its last packet.</param>
/// <param name="Client">The client's address:port.</param>
/// <param name="Server">The server's address:port.</param>
/// <param name="ClosedFirst"><c>client</c> or <c>server</c>: who sent the first FIN (or the reset).</param>
/// <param name="ResetBy"><c>client</c> or <c>server</c> when a reset ended it; else null.</param>
/// <param name="TimeWait">The side left in TIME_WAIT (2MSL; 60 s on Linux); null after a reset.</param>
/// <param name="HandshakeRttMs">Milliseconds from the SYN to the SYN-ACK; null if the handshake was not seen.</param>
/// <param name="BytesClientToServer">Payload bytes the client sent (retransmissions counted once).</param>
/// <param name="BytesServerToClient">Payload bytes the server sent.</param>
/// <param name="Retransmissions">Segments that repeated data, SYN or FIN already sent.</param>
/// <param name="Packets">Segments seen.</param>
/// <param name="DurationMs">Milliseconds from the first to the last packet.</param>
internal sealed record TraceSummary(int Connection, DateTimeOffset Time, string Client, string Server, string? ClosedFirst, string? ResetBy,
    string? TimeWait, double? HandshakeRttMs, long BytesClientToServer, long BytesServerToClient, int Retransmissions, int Packets, double DurationMs)
    : TraceRecord(Connection, Time, Client, Server);
