using Shout.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shout.Cli.Commands;

/// <summary>Draws a <see cref="StatesSnapshot"/> as a Spectre.Console table with its legend.</summary>
internal static class StatesRenderer
{
    public static IRenderable Render(StatesSnapshot snapshot, bool live)
    {
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

        var legend = new Rows(StatesSnapshot.Legend.Select(l => new Markup("[dim]" + Markup.Escape(l) + "[/]")));
        var footer = live ? new Markup("[dim]refreshing; Ctrl+C to stop[/]") : new Markup("");
        return new Rows(table, legend, footer);
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
