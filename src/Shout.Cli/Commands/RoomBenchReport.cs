using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Shout.Load.Room;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// How <c>shout bench room</c> shows its result, with the conventions of pingpong's
/// (<see cref="BenchReport"/>, <see cref="BenchJson"/>): a table on a terminal, plain
/// <c>name: value</c> lines when piped, an INTERRUPTED row after Ctrl+C; in JSON every number
/// carries its unit in its snake_case name and what the run could not see is null.
/// </summary>
internal static class RoomBenchReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The rows of the result, each a name and a value with its unit.</summary>
    public static List<(string Name, string Value, string? Style)> Rows(RoomBenchResult r)
    {
        var rows = new List<(string, string, string?)>();
        void Row(string name, string value, string? style = null) => rows.Add((name, value, style));
        Row("members / rooms / senders", string.Create(Invariant, $"{r.Members} / {r.Rooms} / {r.Senders}"));
        if (r.Interrupted)
        {
            Row("INTERRUPTED", string.Create(Invariant, $"stopped early by Ctrl+C; {r.Seconds:0.00} s measured"), "yellow bold");
        }

        Row("measured", string.Create(Invariant, $"{r.Seconds:0.00} s"));
        Row("lines sent", r.Sent.ToString("N0", Invariant));
        Row("deliveries owed", r.Expected.ToString("N0", Invariant));
        Row("delivered (once, in order)", r.Delivered.ToString("N0", Invariant));
        var bad = r.Lost + r.Duplicated + r.Reordered > 0;
        Row("lost / duplicated / reordered", string.Create(Invariant, $"{r.Lost} / {r.Duplicated} / {r.Reordered}"), bad ? "red bold" : "green");
        Row("deliveries/s", r.DeliveriesPerSecond.ToString("N0", Invariant));
        if (r.Malformed > 0)
        {
            Row("malformed lines (bytes of senders interleaved)", r.Malformed.ToString("N0", Invariant), "red bold");
        }

        Row("client CPU (cores busy)", string.Create(Invariant, $"{r.ClientCpuSeconds:N1} s ({r.ClientCores:N2} of {Environment.ProcessorCount})"));
        Row("server CPU / per delivery", r.ServerCpuSeconds is { } server
            ? string.Create(Invariant, $"{server:N1} s / {r.ServerMicrosecondsPerDelivery:N3} µs")
            : "unknown (no local server process; give --server-pid)");
        Row("fan-out latency p50/p99/p99.9/max", string.Create(Invariant, $"{r.Latency.P50:N0} / {r.Latency.P99:N0} / {r.Latency.P999:N0} / {r.Latency.Max:N0} µs"));
        if (r.ServerMemory is { } m)
        {
            Row("server RSS before / with members", string.Create(Invariant, $"{m.BaselineBytes / 1048576.0:N1} / {m.HeldBytes / 1048576.0:N1} MiB"));
            Row("server RSS per member", string.Create(Invariant, $"{m.BytesPerConnection / 1024:N1} KiB"));
        }

        return rows;
    }

    /// <summary>The final table (terminal) or plain lines (piped), then a loud line for what went wrong.</summary>
    public static void Print(RoomBenchResult r, string address, bool plain)
    {
        var rows = Rows(r);
        var bad = r.Lost + r.Duplicated + r.Reordered > 0
            ? string.Create(Invariant, $"{r.Lost} lost, {r.Duplicated} duplicated, {r.Reordered} reordered")
            : null;
        if (plain)
        {
            var width = rows.Max(x => x.Name.Length) + 1;
            Console.Out.WriteLine($"{"bench room".PadRight(width)} {address}");
            foreach (var (name, value, _) in rows)
            {
                Console.Out.WriteLine($"{(name + ":").PadRight(width)} {value}");
            }

            if (bad is not null)
            {
                Console.Out.WriteLine($"WRONG DELIVERIES: {bad}");
            }

            return;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("bench room").AddColumn(new TableColumn(Markup.Escape(address)).RightAligned());
        foreach (var (name, value, style) in rows)
        {
            table.AddRow(style is null ? new Markup(Markup.Escape(name)) : new Markup($"[{style}]{Markup.Escape(name)}[/]"),
                style is null ? new Markup(Markup.Escape(value)) : new Markup($"[{style}]{Markup.Escape(value)}[/]"));
        }

        AnsiConsole.Write(table);
        if (bad is not null)
        {
            AnsiConsole.MarkupLine($"[red bold]WRONG DELIVERIES: {bad}[/]");
        }
    }

    public static string Json(RoomBenchResult r, string address, IReadOnlyList<RoomBenchInterval> intervals) => JsonSerializer.Serialize(new Document
    {
        Mode = "room",
        Address = address,
        Interrupted = r.Interrupted,
        Members = r.Members,
        Rooms = r.Rooms,
        Senders = r.Senders,
        MeasuredSeconds = r.Seconds,
        LinesSent = r.Sent,
        DeliveriesOwed = r.Expected,
        Delivered = r.Delivered,
        Lost = r.Lost,
        Duplicated = r.Duplicated,
        Reordered = r.Reordered,
        Malformed = r.Malformed,
        DeliveriesPerSecond = r.DeliveriesPerSecond,
        Latency = r.Delivered > 0 ? r.Latency : null,
        ClientCpuSeconds = r.ClientCpuSeconds,
        ServerCpuSeconds = r.ServerCpuSeconds,
        ServerCpuUsPerDelivery = r.ServerMicrosecondsPerDelivery,
        ServerMemory = r.ServerMemory,
        ServerMemoryPerMemberBytes = r.ServerMemory?.BytesPerConnection,
        Intervals = intervals.Count > 0 ? intervals : null,
    }, BenchJson.Options);

    private sealed class Document : BenchDocument
    {
        public int Members { get; init; }
        public int Rooms { get; init; }
        public int Senders { get; init; }
        public long LinesSent { get; init; }
        public long DeliveriesOwed { get; init; }
        public long Delivered { get; init; }
        public long Lost { get; init; }
        public long Duplicated { get; init; }
        public long Reordered { get; init; }
        public long Malformed { get; init; }
        public double DeliveriesPerSecond { get; init; }
        public double ClientCpuSeconds { get; init; }
        public double? ServerCpuSeconds { get; init; }
        public double? ServerCpuUsPerDelivery { get; init; }
        public double? ServerMemoryPerMemberBytes { get; init; }
        public IReadOnlyList<RoomBenchInterval>? Intervals { get; init; }
    }
}
