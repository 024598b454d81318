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
    ];

    public static StatesSnapshot Take(IReadOnlyList<int> ports)
    {
        var entries = TcpStateTable.Read(ports.Count == 0 ? null : ports);
        var order = TcpStateNames.LifeOrder;
        var sorted = entries
            .OrderBy(e => order.Contains(e.State) ? IndexOf(order, e.State) : int.MaxValue)
            .ThenBy(e => e.Local.Port)
            .ThenBy(e => e.Remote.Port)
            .ToList();
        return new StatesSnapshot(DateTimeOffset.Now, ports, sorted);
    }

    public IEnumerable<IGrouping<TcpState, TcpSocketEntry>> Groups => Entries.GroupBy(e => e.State);

    /// <summary>"server" when the socket's own port is a watched one, "client" for the other end; "" with no ports given.</summary>
    public string Side(TcpSocketEntry entry) =>
        Ports.Count == 0 ? "" : Ports.Contains(entry.Local.Port) ? "server" : "client";

    public string ToJson()
    {
        var document = new StatesDocument(
            Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            [.. Ports],
            Groups.ToDictionary(g => TcpStateNames.Name(g.Key), g => g.Count()),
            [.. Entries.Select(e => new StatesConnection(TcpStateNames.Name(e.State), Side(e), e.Local.ToString(), e.Remote.ToString()))]);
        return JsonSerializer.Serialize(document, StatesJsonContext.Default.StatesDocument);
    }

    public string ToPlainText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"STATE",-12} {"SIDE",-6} {"LOCAL",-47} REMOTE\n");
        foreach (var e in Entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"{TcpStateNames.Name(e.State),-12} {Side(e),-6} {e.Local,-47} {e.Remote}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"total {Entries.Count}: ");
        text.AppendJoin(", ", Groups.Select(g => $"{TcpStateNames.Name(g.Key)} {g.Count()}"));
        return text.Append('\n').ToString();
    }

    private static int IndexOf(IReadOnlyList<TcpState> list, TcpState state)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == state)
            {
                return i;
            }
        }

        return -1;
    }
}

internal sealed record StatesDocument(string Time, int[] Ports, Dictionary<string, int> Counts, StatesConnection[] Connections);

internal sealed record StatesConnection(string State, string Side, string Local, string Remote);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatesDocument))]
internal sealed partial class StatesJsonContext : JsonSerializerContext;
