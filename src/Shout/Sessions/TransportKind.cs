namespace Shout.Sessions;

/// <summary>
/// The transport a session arrived on: the typed identity every rule, metric, log line and live-view
/// entry carries. Its <see cref="TransportKinds.Name"/> is the label (<c>tcp</c>, <c>tls</c>,
/// <c>unix</c>, <c>udp</c>, <c>ws</c>, <c>wss</c>).
/// </summary>
internal enum TransportKind
{
    /// <summary>TCP, IPv4 or IPv6.</summary>
    Tcp,

    /// <summary>TLS over TCP.</summary>
    Tls,

    /// <summary>A Unix domain stream socket.</summary>
    Unix,

    /// <summary>UDP: a session is one source address, from its first datagram until the idle timeout.</summary>
    Udp,

    /// <summary>WebSocket over plain HTTP.</summary>
    Ws,

    /// <summary>WebSocket over HTTPS.</summary>
    Wss,
}

/// <summary>Names and traits of <see cref="TransportKind"/>.</summary>
internal static class TransportKinds
{
    private static readonly string[] Names = ["tcp", "tls", "unix", "udp", "ws", "wss"];

    /// <summary>Every transport, in declaration order.</summary>
    public static IReadOnlyList<TransportKind> All { get; } = Enum.GetValues<TransportKind>();

    /// <summary>The label used in logs, metrics and the live view; no allocation.</summary>
    public static string Name(this TransportKind kind) => Names[(int)kind];

    /// <summary>True for the transports whose sessions are a byte stream (TCP, TLS, Unix).</summary>
    public static bool IsStream(this TransportKind kind) => kind is TransportKind.Tcp or TransportKind.Tls or TransportKind.Unix;
}
