using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Shout.Diagnostics;

namespace Shout.Cli.Commands;

/// <summary>One reading of the TCP table for <c>shout states</c>, grouped by state in life order.</summary>
internal sealed record StatesSnapshot(DateTimeOffset Time, IReadOnlyList<int> Ports, IReadOnlyList<TcpSocketEntry> Entries)
{
    /// <summary>Who reaches which state, after the tutorial's 2.6.</summary>
    public static readonly string[] Legend =
    [
        "LISTEN: the server's socket waiting in Accept; ESTABLISHED: handshake done, data flows both ways.",
        "The side that closes first (sends the first FIN) goes FIN_WAIT_1 -> FIN_WAIT_2 (half-closed) -> TIME_WAIT.",
        "TIME_WAIT lasts 2MSL (60 s on Linux) so the last ACK can be resent and late segments die; only the first closer has it.",
        "The side that closes second goes CLOSE_WAIT (peer's FIN seen; until it closes too) -> LAST_ACK -> closed.",
        "A Shout client that half-closes first (shout send) leaves the TIME_WAIT on the client; a server closing first (quit, timeouts) keeps it.",
        "Send-Q: bytes sent, not yet acknowledged by the peer; Recv-Q: bytes received, not yet read (a LISTEN's: connections not yet accepted).",
    ];

    /// <summary>The states in the order a connection's life goes through them (the display order).</summary>
    private static readonly TcpState[] LifeOrder =
    [
        TcpState.Listen, TcpState.SynSent, TcpState.SynReceived, TcpState.NewSynReceived, TcpState.Established,
        TcpState.FinWait1, TcpState.FinWait2, TcpState.Closing, TcpState.TimeWait,
        TcpState.CloseWait, TcpState.LastAck, TcpState.Close,
    ];

    /// <summary>
    /// For a port <c>serve --toxic</c> fronts: the internal ports its server is on (<see cref="ToxicFronts"/>),
    /// whose sockets are shown too, the server's own end of each connection.
    /// </summary>
    public IReadOnlyDictionary<int, int[]> Behind { get; init; } = new Dictionary<int, int[]>();

    public static StatesSnapshot Take(IReadOnlyList<int> ports)
    {
        var behind = ports.Distinct().Select(p => (Port: p, Internal: ToxicFronts.Behind(p))).Where(b => b.Internal.Length > 0)
            .ToDictionary(b => b.Port, b => b.Internal);
        var matched = ports.Concat(behind.Values.SelectMany(i => i)).Distinct().ToList();
        var entries = TcpStateTable.Read(matched.Count == 0 ? null : matched);
        var order = LifeOrder;
        var sorted = entries
            .OrderBy(e => Array.IndexOf(order, e.State) is var i and >= 0 ? i : int.MaxValue)
            .ThenBy(e => e.Local.Port)
            .ThenBy(e => e.Remote.Port)
            .ToList();
        return new StatesSnapshot(DateTimeOffset.Now, ports, sorted) { Behind = behind };
    }

    public IEnumerable<IGrouping<TcpState, TcpSocketEntry>> Groups => Entries.GroupBy(e => e.State);

    /// <summary>
    /// "server" when the socket's own port is a watched one, "client" for the other end; "" with no
    /// ports given. Behind <c>serve --toxic</c>: "proxy" for the toxics' two ends (on the public port,
    /// and towards the internal one), "server" for the server's end on the internal port.
    /// </summary>
    public string Side(TcpSocketEntry entry)
    {
        if (Ports.Count == 0)
        {
            return "";
        }

        var inside = Behind.Values.SelectMany(i => i).ToList();
        return inside.Contains(entry.Local.Port) ? "server"
            : inside.Contains(entry.Remote.Port) || Behind.ContainsKey(entry.Local.Port) ? "proxy"
            : entry.IsServerSide(Ports) ? "server" : "client";
    }

    /// <summary>A line naming the internal ports shown, or null when none is.</summary>
    public string? BehindLine => Behind.Count == 0 ? null
        : string.Join("; ", Behind.Select(b => $"port {b.Key} is serve --toxic's proxy; its server is on {string.Join(", ", b.Value)} (shown too)"));

    public string ToJson()
    {
        var document = new StatesDocument(
            Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            [.. Ports],
            [.. Behind.Values.SelectMany(i => i).Distinct()],
            Groups.ToDictionary(g => TcpStateTable.StateName(g.Key), g => g.Count()),
            [.. Entries.Select(e => new StatesConnection(TcpStateTable.StateName(e.State), Side(e), e.Local.ToString(), e.Remote.ToString(),
                e.SendQueue, e.ReceiveQueue))]);
        return JsonSerializer.Serialize(document, StatesJsonContext.Default.StatesDocument);
    }

    public string ToPlainText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"STATE",-12} {"SIDE",-6} {"LOCAL",-47} {"REMOTE",-47} {"SEND-Q",8} {"RECV-Q",8}\n");
        foreach (var e in Entries)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{TcpStateTable.StateName(e.State),-12} {Side(e),-6} {e.Local,-47} {e.Remote,-47} {e.SendQueue,8} {e.ReceiveQueue,8}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"total {Entries.Count}: ");
        text.AppendJoin(", ", Groups.Select(g => $"{TcpStateTable.StateName(g.Key)} {g.Count()}"));
        text.Append('\n');
        if (BehindLine is { } behind)
        {
            text.Append(behind).Append('\n');
        }

        return text.ToString();
    }

}

internal sealed record StatesDocument(string Time, int[] Ports, int[] Behind, Dictionary<string, int> Counts, StatesConnection[] Connections);

/// <summary>One socket: its state, which side it is, its ends, and the bytes its queues hold (ss's Send-Q and Recv-Q).</summary>
internal sealed record StatesConnection(string State, string Side, string Local, string Remote, long SendQueue, long ReceiveQueue);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatesDocument))]
internal sealed partial class StatesJsonContext : JsonSerializerContext;
