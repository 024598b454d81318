using System.Globalization;
using Shout.Load;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// How <c>shout bench</c> shows a run: a live line while it runs (on a terminal), then the result
/// with a unit on every number: a table on a terminal, plain <c>name: value</c> lines when piped.
/// Rows depend on the mode (hold reports connects and memory, not message rates), and what the run
/// could not see says so ("unknown") rather than 0.
/// </summary>
internal static class BenchReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Runs with a live status display; only when stdout is a terminal.</summary>
    public static async Task<BenchResult> RunWithLiveViewAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        BenchResult? result = null;
        await AnsiConsole.Live(new Markup("[grey]connecting…[/]")).AutoClear(true).StartAsync(async context =>
        {
            result = await BenchRunner.RunAsync(options, p =>
            {
                context.UpdateTarget(new Markup(Status(p)));
                context.Refresh();
            }, cancellationToken);
        });
        return result!;
    }

    private static string Status(BenchProgress p)
    {
        var bad = p.Mismatches > 0 ? $"  [red bold]{p.Mismatches} WRONG REPLIES[/]" : "";
        var errors = p.Errors > 0 ? $"  [yellow]{p.Errors} errors[/]" : "";
        return string.Create(Invariant, $"[blue]{p.Phase}[/] {p.Elapsed.TotalSeconds:0.0}/{p.PhaseLength.TotalSeconds:0.0} s  "
            + $"{p.MessagesPerSecond:N0} msgs/s  {p.MegabytesPerSecond:N1} MB/s  {p.OpenConnections} open") + bad + errors;
    }

    /// <summary>The rows of the result, each a name and a value with its unit.</summary>
    public static List<(string Name, string Value, string? Style)> Rows(BenchResult r)
    {
        var rows = new List<(string, string, string?)>();
        void Row(string name, string value, string? style = null) => rows.Add((name, value, style));
        var hold = r.Mode == "hold";
        Row("mode", hold
            ? string.Create(Invariant, $"hold, {r.Connections} connections, {r.Size} B message, expect {r.Expect}")
            : r.Mode == "pingpong"
            ? string.Create(Invariant, $"pingpong, {r.Connections} conn, pipeline {r.Pipeline}, {r.Size} B, expect {r.Expect}")
            : string.Create(Invariant, $"{r.Mode}, {r.Connections} conn, {r.Size} B writes, expect {r.Expect}"));
        if (r.Interrupted)
        {
            Row("INTERRUPTED", string.Create(Invariant, $"stopped early by Ctrl+C; {r.Seconds:0.00} s measured"), "yellow bold");
        }

        if (r.ConnectionsOpened != r.Connections)
        {
            Row("connections", string.Create(Invariant, $"{r.ConnectionsOpened} of {r.Connections} opened"), "yellow");
        }

        if (hold)
        {
            Row("connect rate", r.RampSeconds is > 0 and var ramp
                ? string.Create(Invariant, $"{r.ConnectionsOpened / ramp:N0} connections/s ({r.ConnectionsOpened:N0} in {ramp:0.00} s)")
                : "unknown");
            if (r.Latency is { } l)
            {
                Row("connect+reply p50/p99/max", string.Create(Invariant, $"{l.P50:N0} / {l.P99:N0} / {l.Max:N0} µs"));
            }

            Row("held", string.Create(Invariant, $"{r.Seconds:0.00} s"));
            Row("server memory", r.ServerMemory is { } m
                ? string.Create(Invariant, $"{m.BaselineBytes / 1048576.0:0.0} → {m.HeldBytes / 1048576.0:0.0} MiB")
                : "unknown (no local server process; give --server-pid)");
            if (r.ServerMemory is { } mem)
            {
                Row("per connection", string.Create(Invariant, $"{mem.BytesPerConnection / 1024:0.00} KiB ({mem.Connections} held)"));
            }
        }
        else
        {
            Row("measured", string.Create(Invariant, $"{r.Seconds:0.00} s"));
            Row("messages", string.Create(Invariant, $"{r.Messages:N0}"));
            Row("throughput", string.Create(Invariant, $"{r.MessagesPerSecond:N0} msgs/s, {r.MegabytesPerSecond:N1} MB/s (10^6 B)"));
            if (r.Latency is { } l)
            {
                Row("latency p50/p90/p99", string.Create(Invariant, $"{l.P50:N0} / {l.P90:N0} / {l.P99:N0} µs"));
                Row("latency p99.9/max", string.Create(Invariant, $"{l.P999:N0} / {l.Max:N0} µs"));
            }
        }

        // Held connections send one message each and then idle: CPU per message would mean nothing there.
        if (!hold)
        {
            Row("bench CPU/msg", r.ClientCpuMicrosecondsPerMessage is { } client ? string.Create(Invariant, $"{client:0.00} µs") : "unknown");
            Row("server CPU/msg", r.ServerCpuMicrosecondsPerMessage is { } server
                ? string.Create(Invariant, $"{server:0.00} µs (pid {r.ServerPid})")
                : r.ServerPid is null ? "unknown (no local server process; give --server-pid)" : "unknown");
        }

        Row("mismatches", r.Mismatches.ToString(Invariant), r.Mismatches == 0 ? "green" : "red bold");
        foreach (var (kind, count) in r.Errors)
        {
            Row($"error {kind}", count.ToString(Invariant), "yellow");
        }

        return rows;
    }

    /// <summary>The final table (terminal) or plain lines (piped), then loud lines for wrong replies.</summary>
    public static void Print(BenchResult r, bool plain)
    {
        var rows = Rows(r);
        if (plain)
        {
            var width = rows.Max(x => x.Name.Length) + 1;
            Console.Out.WriteLine($"{"bench".PadRight(width)} {r.Address}");
            foreach (var (name, value, _) in rows)
            {
                Console.Out.WriteLine($"{(name + ":").PadRight(width)} {value}");
            }

            if (r.Mismatches > 0)
            {
                Console.Out.WriteLine($"WRONG REPLIES: {r.Mismatches} — first: {r.FirstMismatch ?? "?"}");
            }

            return;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("bench").AddColumn(new TableColumn(Markup.Escape(r.Address)).RightAligned());
        foreach (var (name, value, style) in rows)
        {
            table.AddRow(style is null ? new Markup(Markup.Escape(name)) : new Markup($"[{style}]{Markup.Escape(name)}[/]"),
                style is null ? new Markup(Markup.Escape(value)) : new Markup($"[{style}]{Markup.Escape(value)}[/]"));
        }

        AnsiConsole.Write(table);
        if (r.Mismatches > 0)
        {
            AnsiConsole.MarkupLine($"[red bold]WRONG REPLIES: {r.Mismatches}[/] — first: {Markup.Escape(r.FirstMismatch ?? "?")}");
        }
    }
}
