namespace Shout.Toxics;

/// <summary>Which way a toxic acts: upstream is client → server, downstream server → client (toxiproxy's words).</summary>
internal enum ToxicStream
{
    Upstream,
    Downstream,
}

/// <summary>One attribute of a toxic type: its name, the range it accepts and its value when not given.</summary>
internal sealed record ToxicAttribute(string Name, long Min, long Max, long Default);

/// <summary>
/// The toxic types and their attributes, with toxiproxy's names and units (milliseconds unless
/// said, KB/s = 1000 bytes a second). A value outside the range is refused rather than clamped:
/// an hour of latency or a negative rate is a typo, not a wish.
/// </summary>
internal static class ToxicTypes
{
    private const long Hour = 3_600_000;

    private static readonly Dictionary<string, ToxicAttribute[]> Types = new(StringComparer.Ordinal)
    {
        ["latency"] = [new("latency", 0, Hour, 0), new("jitter", 0, Hour, 0)],
        ["bandwidth"] = [new("rate", 0, 10_000_000, 0)],
        ["slicer"] = [new("average_size", 1, 1 << 20, 1), new("size_variation", 0, 1 << 20, 0), new("delay", 0, 60_000_000, 0)],
        ["timeout"] = [new("timeout", 0, Hour, 0)],
        ["reset_peer"] = [new("timeout", 0, Hour, 0)],
        ["limit_data"] = [new("bytes", 0, 1L << 50, 0)],
        ["slow_close"] = [new("delay", 0, Hour, 0)],

        // Datagram toxics: their toxicity is the share of datagrams (not of flows) they act on.
        ["loss"] = [],
        ["duplicate"] = [],
        ["reorder"] = [new("delay", 0, Hour, 10)],
    };

    /// <summary>The types that act on each datagram, so only on a udp proxy.</summary>
    private static readonly HashSet<string> DatagramOnly = new(StringComparer.Ordinal) { "loss", "duplicate", "reorder" };

    /// <summary>The types that act on a udp proxy: the datagram toxics, and latency, bandwidth and timeout per flow.</summary>
    private static readonly HashSet<string> OnDatagrams = new(StringComparer.Ordinal) { "loss", "duplicate", "reorder", "latency", "bandwidth", "timeout" };

    public static IEnumerable<string> Names => Types.Keys;

    public static bool TryGet(string type, out ToxicAttribute[] attributes) => Types.TryGetValue(type, out attributes!);

    public static string Known => string.Join(", ", Types.Keys);

    /// <summary>Whether a toxic of this type acts on each datagram (toxicity per datagram).</summary>
    public static bool PerDatagram(string type) => DatagramOnly.Contains(type);

    /// <summary>
    /// Null when a toxic of this type can act on a proxy of this kind (<see cref="ProxyAddress.Kind"/>:
    /// udp, ws or stream), else the one-line reason. A ws proxy takes the stream toxics, acting on
    /// messages (docs/proxy.md); the datagram toxics only a udp proxy.
    /// </summary>
    public static string? Refuses(string type, string kind) => kind == "udp"
        ? OnDatagrams.Contains(type) ? null : $"{type} acts on streams; a udp proxy takes {string.Join(", ", OnDatagrams.Order(StringComparer.Ordinal))}"
        : DatagramOnly.Contains(type)
            ? kind == "ws"
                ? $"{type} acts on datagrams; a ws proxy takes {string.Join(", ", Types.Keys.Where(t => !DatagramOnly.Contains(t)))}"
                : $"{type} acts on datagrams; it needs a udp proxy (--listen udp://…)"
            : null;
}
