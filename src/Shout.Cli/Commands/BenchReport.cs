using System.Globalization;
using Shout.Load;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>How <c>shout bench</c> shows a run: a live line while it runs, then a table.</summary>
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

    /// <summary>The final table, then loud lines for wrong replies and errors.</summary>
    public static void Print(BenchResult r)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("bench").AddColumn(new TableColumn(Markup.Escape(r.Address)).RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));

        Row("mode", string.Create(Invariant, $"{r.Mode}, {r.Connections} conn, pipeline {r.Pipeline}, {r.Size} B, expect {r.Expect}"));
        if (r.ConnectionsOpened != r.Connections)
        {
            table.AddRow(new Markup("[yellow]connections[/]"), new Markup($"[yellow]{r.ConnectionsOpened} of {r.Connections} opened[/]"));
        }

        Row("measured", string.Create(Invariant, $"{r.Seconds:0.00} s"));
        Row("messages", string.Create(Invariant, $"{r.Messages:N0}"));
        Row("msgs/s", string.Create(Invariant, $"{r.MessagesPerSecond:N0}"));
        Row("MB/s", string.Create(Invariant, $"{r.MegabytesPerSecond:N1}"));
        if (r.Latency is { } l)
        {
            Row("latency p50/p90/p99", string.Create(Invariant, $"{l.P50:N0} / {l.P90:N0} / {l.P99:N0} µs"));
            Row("latency p99.9/max", string.Create(Invariant, $"{l.P999:N0} / {l.Max:N0} µs"));
        }

        if (r.ClientCpuMicrosecondsPerMessage is { } client)
        {
            Row("bench CPU/msg", string.Create(Invariant, $"{client:0.00} µs"));
        }

        if (r.ServerCpuMicrosecondsPerMessage is { } server)
        {
            Row("server CPU/msg", string.Create(Invariant, $"{server:0.00} µs (pid {r.ServerPid})"));
        }

        if (r.ServerMemory is { } m)
        {
            Row("server memory", string.Create(Invariant, $"{m.BaselineBytes / 1048576.0:0.0} → {m.HeldBytes / 1048576.0:0.0} MiB"));
            Row("per connection", string.Create(Invariant, $"{m.BytesPerConnection / 1024:0.00} KiB ({m.Connections} held)"));
        }

        table.AddRow(new Markup("mismatches"), new Markup(r.Mismatches == 0 ? "[green]0[/]" : $"[red bold]{r.Mismatches}[/]"));
        foreach (var (kind, count) in r.Errors)
        {
            table.AddRow(new Markup($"[yellow]error {Markup.Escape(kind)}[/]"), new Markup(count.ToString(Invariant)));
        }

        AnsiConsole.Write(table);
        if (r.Mismatches > 0)
        {
            AnsiConsole.MarkupLine($"[red bold]WRONG REPLIES: {r.Mismatches}[/] — first: {Markup.Escape(r.FirstMismatch ?? "?")}");
        }
    }
}
