using Shout.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shout.Cli.Commands;

/// <summary>
/// Draws a <see cref="StatesSnapshot"/>: a line of counts per state, a table of sockets and its
/// legend. Given a terminal <c>height</c> (live view), the counts always show; socket rows are cut
/// to what fits ("… N more"), and the legend goes first when room is short.
/// </summary>
internal static class StatesRenderer
{
    // Title, top border, header, header rule, bottom border; the counts line; the footer.
    private const int Overhead = 5 + 1 + 1;

    public static IRenderable Render(StatesSnapshot snapshot, bool live, int? height = null)
    {
        var counts = new Markup(snapshot.Entries.Count == 0 ? "[dim]no sockets[/]"
            : string.Join("  ", snapshot.Groups.Select(g => $"[{Colour(g.Key)}]{TcpStateTable.StateName(g.Key)}[/] {g.Count()}"))
              + $"  [dim]total[/] {snapshot.Entries.Count}");
        var room = height is { } h ? Math.Max(1, h - Overhead - 1) : int.MaxValue;
        var showLegend = snapshot.Entries.Count + StatesSnapshot.Legend.Length <= room;
        var groups = snapshot.Groups.ToList();
        var budget = RowBudget(groups.Select(g => g.Count()).ToList(), room);
        var ports = snapshot.Ports.Count == 0 ? "every port" : "port " + string.Join(", ", snapshot.Ports)
            + (snapshot.Behind.Count == 0 ? "" : $" (behind its toxics, the server on {string.Join(", ", snapshot.Behind.Values.SelectMany(i => i))})");
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title($"TCP sockets on {ports} at {snapshot.Time:HH:mm:ss}")
            .AddColumn("State")
            .AddColumn(new TableColumn("Count").RightAligned())
            .AddColumn("Side")
            .AddColumn("Local")
            .AddColumn("Remote")
            .AddColumn(new TableColumn("Send-Q").RightAligned())
            .AddColumn(new TableColumn("Recv-Q").RightAligned());
        for (var g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            var count = group.Count();
            var name = $"[{Colour(group.Key)}]{TcpStateTable.StateName(group.Key)}[/]";
            var countText = count.ToString(System.Globalization.CultureInfo.InvariantCulture);

            // A state whose sockets do not all fit lists what does and one row for the rest, so every
            // state present has a row, however many sockets another state has.
            var listed = budget[g] >= count ? count : budget[g] - 1;
            var first = true;
            foreach (var entry in group.Take(listed))
            {
                table.AddRow(first ? name : "", first ? countText : "", snapshot.Side(entry),
                    Markup.Escape(entry.Local.ToString()), Markup.Escape(entry.Remote.ToString()), Queue(entry.SendQueue), Queue(entry.ReceiveQueue));
                first = false;
            }

            if (listed < count)
            {
                table.AddRow(first ? name : "", first ? countText : "", "",
                    first ? $"[dim]{TcpStateTable.StateName(group.Key)} ×{count} (not listed)[/]" : $"[dim]… {count - listed} more[/]", "", "", "");
            }
        }

        if (snapshot.Entries.Count == 0)
        {
            table.AddRow("[dim](none)[/]", "", "", "", "", "", "");
        }

        var legend = new Rows(StatesSnapshot.Legend.Select(l => new Markup("[dim]" + Markup.Escape(l) + "[/]")));
        var footer = live ? new Markup("[dim]refreshing; Ctrl+C to stop[/]") : new Markup("");
        return showLegend ? new Rows(counts, table, legend, footer) : new Rows(counts, table, footer);
    }

    /// <summary>A queue's bytes, dim when empty so the queues that hold something stand out.</summary>
    private static string Queue(long bytes) =>
        bytes == 0 ? "[dim]0[/]" : bytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Rows per state within <paramref name="room"/>: all of them when everything fits, else at least
    /// one per state and the rest shared out a row at a time, so a state of 2 sockets beside one of 80
    /// keeps both of its rows.
    /// </summary>
    private static int[] RowBudget(List<int> counts, int room)
    {
        var budget = counts.Select(_ => 1).ToArray();
        if (counts.Sum() <= room)
        {
            return [.. counts];
        }

        var left = room - counts.Count;
        var growing = true;
        while (left > 0 && growing)
        {
            growing = false;
            for (var i = 0; i < counts.Count && left > 0; i++)
            {
                if (budget[i] < counts[i])
                {
                    budget[i]++;
                    left--;
                    growing = true;
                }
            }
        }

        return budget;
    }

    private static string Colour(TcpState state) => state switch
    {
        TcpState.Listen => "blue",
        TcpState.Established => "green",
        TcpState.TimeWait => "yellow",
        TcpState.CloseWait or TcpState.LastAck => "red",
        TcpState.FinWait1 or TcpState.FinWait2 or TcpState.Closing => "darkorange",
        _ => "grey",
    };
}
