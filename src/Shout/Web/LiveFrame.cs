using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shout.Web;

/// <summary>One second of the server, as the live view draws it: rates are per second over the last second.</summary>
internal sealed record LiveSample(
    long Time, long Active, double Accepted, double Closed, double Rejected, double Messages, double BytesIn, double BytesOut);

/// <summary>Totals and rates of one transport.</summary>
internal sealed record LiveTransport(string Name, long Active, long Accepted, long Closed, long Rejected, double MessagesPerSecond);

/// <summary>
/// Sockets of the server's ports in one TCP state: the server's end on the Shout ports (what
/// "open connections" counts for tcp and tls), the server's end on the web port (HTTP and WebSocket,
/// the page's own included), and, on this host, clients' ends.
/// </summary>
internal sealed record LiveTcpState(string State, int Server, int Clients, int Web = 0);

/// <summary>One recent connection event.</summary>
internal sealed record LiveEvent(long Sequence, long Time, string Kind, string Transport, string Remote, string? Reason,
    string? ClosedBy, long BytesIn, long BytesOut, double DurationMs);

/// <summary>What the live view receives once per second.</summary>
internal sealed record LiveFrame(
    LiveSample Sample,
    IReadOnlyList<LiveTransport> Transports,
    IReadOnlyList<LiveTcpState>? TcpStates,
    IReadOnlyList<LiveEvent> Events,
    IReadOnlyList<string> Endpoints,
    double UptimeSeconds,
    LiveTrace Trace,
    LiveBus? Bus = null);

/// <summary>The room bus (room mode only): <c>none</c>, <c>connecting</c>, <c>connected</c> or <c>lost</c>, the server (redacted) and since when (Unix ms).</summary>
internal sealed record LiveBus(string State, string Server, long Since);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LiveFrame))]
[JsonSerializable(typeof(IReadOnlyList<LiveSample>))]
internal sealed partial class LiveJsonContext : JsonSerializerContext;

/// <summary>The page's wire trace: <c>off</c>, <c>starting</c>, <c>on</c>, <c>denied</c> (no CAP_NET_RAW) or <c>unavailable</c>.</summary>
internal sealed record LiveTrace(string State, string Message, IReadOnlyList<int> Ports, IReadOnlyList<LiveTraceConnection> Connections);

/// <summary>One traced connection (or UDP peer): its packets in order, how many more were not kept, and its summary once ended.</summary>
internal sealed record LiveTraceConnection(int Number, string Kind, string Client, string Server, IReadOnlyList<LiveTracePacket> Packets,
    int More, LiveTraceSummary? Summary);

/// <summary>One arrow of a sequence diagram.</summary>
internal sealed record LiveTracePacket(string From, string Flags, string? Seq, string? Ack, int Length, string? Preview,
    string? ClientState, string? ServerState, bool Retransmission, double ElapsedMs, double GapMs = 0, bool ZeroWindow = false);

/// <summary>How a traced connection ended.</summary>
internal sealed record LiveTraceSummary(string? ClosedFirst, string? ResetBy, string? TimeWait, double? HandshakeRttMs,
    long BytesClientToServer, long BytesServerToClient, int Retransmissions, int Packets);
