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
        var maxRows = snapshot.Entries.Count <= room ? snapshot.Entries.Count : room - 1;
        var rows = 0;
        var ports = snapshot.Ports.Count == 0 ? "every port" : "port " + string.Join(", ", snapshot.Ports);
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title($"TCP sockets on {ports} at {snapshot.Time:HH:mm:ss}")
            .AddColumn("State")
            .AddColumn(new TableColumn("Count").RightAligned())
            .AddColumn("Side")
            .AddColumn("Local")
            .AddColumn("Remote");
        foreach (var group in snapshot.Groups)
        {
            var first = true;
            foreach (var entry in group)
            {
                if (rows == maxRows)
                {
                    break;
                }

                rows++;

                table.AddRow(
                    first ? $"[{Colour(group.Key)}]{TcpStateTable.StateName(group.Key)}[/]" : "",
                    first ? group.Count().ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                    snapshot.Side(entry),
                    Markup.Escape(entry.Local.ToString()),
                    Markup.Escape(entry.Remote.ToString()));
                first = false;
            }
        }

        if (snapshot.Entries.Count == 0)
        {
            table.AddRow("[dim](none)[/]", "", "", "", "");
        }

        var shown = table.Rows.Count;
        if (snapshot.Entries.Count > shown)
        {
            table.AddRow($"[dim]… {snapshot.Entries.Count - shown} more[/]", "", "", "", "");
        }

        var legend = new Rows(StatesSnapshot.Legend.Select(l => new Markup("[dim]" + Markup.Escape(l) + "[/]")));
        var footer = live ? new Markup("[dim]refreshing; Ctrl+C to stop[/]") : new Markup("");
        return showLegend ? new Rows(counts, table, legend, footer) : new Rows(counts, table, footer);
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
