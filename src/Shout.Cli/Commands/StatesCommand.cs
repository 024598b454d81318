using System.CommandLine;
using Shout.Cli.Parsing;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout states</c>: the tutorial's 2.6 made visible. The kernel's TCP sockets on the given
/// ports (both ends of a loopback connection show), grouped by state, like <c>ss -tan</c>; with
/// <c>--watch</c> redrawn until Ctrl+C. A table on a terminal, plain lines or JSON when redirected.
/// </summary>
internal static class StatesCommand
{
    public static Command Create()
    {
        var port = new Option<int[]>("--port", "-p")
        {
            Description = "Show sockets whose local or remote port is this one (repeatable). Default: every TCP socket.",
            AllowMultipleArgumentsPerToken = false,
            HelpName = "port",
            CustomParser = CliValues.Ints(1, 65535),
        };
        var watch = new Option<bool>("--watch") { Description = "Refresh until Ctrl+C." };
        var interval = new Option<TimeSpan>("--interval", "-i")
        {
            Description = "With --watch, time between refreshes. Default 1s.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
            HelpName = "duration",
            CustomParser = CliValues.Duration,
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Say on stderr what was read (/proc/net/tcp, tcp6) and how many sockets matched." };
        var json = new Option<bool>("--json") { Description = "Print JSON (one object per refresh with --watch)." };
        var command = new Command("states", "Show the TCP state of connections on a port (LISTEN, ESTABLISHED, TIME_WAIT, …), like ss.")
        {
            port, watch, interval, verbose, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!OperatingSystem.IsLinux())
            {
                await Console.Error.WriteLineAsync("shout: states reads /proc/net/tcp, which only Linux has");
                return 1;
            }

            var ports = parse.GetValue(port) ?? [];
            if (parse.GetValue(verbose))
            {
                var count = StatesSnapshot.Take(ports).Entries.Count;
                await Console.Error.WriteLineAsync($"shout: read /proc/net/tcp and /proc/net/tcp6: {count} sockets on {(ports.Length == 0 ? "every port" : "port " + string.Join(", ", ports))}");
            }

            var view = parse.GetValue(json) ? StatesView.Json
                : Console.IsOutputRedirected ? StatesView.Plain
                : StatesView.Table;
            return parse.GetValue(watch)
                ? await WatchAsync(ports, view, parse.GetValue(interval), cancellationToken)
                : Show(ports, view);
        });
        return command;
    }

    private static int Show(int[] ports, StatesView view)
    {
        var snapshot = StatesSnapshot.Take(ports);
        switch (view)
        {
            case StatesView.Json:
                Console.Out.WriteLine(snapshot.ToJson());
                break;
            case StatesView.Plain:
                Console.Out.Write(snapshot.ToPlainText());
                break;
            default:
                AnsiConsole.Write(StatesRenderer.Render(snapshot, live: false));
                break;
        }

        return 0;
    }

    private static async Task<int> WatchAsync(int[] ports, StatesView view, TimeSpan interval, CancellationToken cancellationToken)
    {
        // Ctrl+C ends the watch between frames rather than killing the process mid-frame; the exit
        // code is 130 as chat's, bench's and trace's (a shell's code for a command stopped by SIGINT).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var timer = new PeriodicTimer(interval < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : interval);
        try
        {
            if (view != StatesView.Table)
            {
                try
                {
                    do
                    {
                        Show(ports, view);
                        await Console.Out.FlushAsync(stop.Token);
                    }
                    while (await timer.WaitForNextTickAsync(stop.Token));
                }
                catch (OperationCanceledException)
                {
                }

                return Interrupted;
            }

            // The loop ends inside the live display, which then draws one last frame (without the
            // "refreshing" footer) and leaves it on the screen: what was watched stays readable.
            await AnsiConsole.Live(StatesRenderer.Render(StatesSnapshot.Take(ports), live: true, Console.WindowHeight)).StartAsync(async context =>
            {
                try
                {
                    while (await timer.WaitForNextTickAsync(stop.Token))
                    {
                        context.UpdateTarget(StatesRenderer.Render(StatesSnapshot.Take(ports), live: true, Console.WindowHeight));
                    }
                }
                catch (OperationCanceledException)
                {
                }

                context.UpdateTarget(StatesRenderer.Render(StatesSnapshot.Take(ports), live: false, Console.WindowHeight));
                context.Refresh();
            });
            return Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Exit code of a watch stopped by Ctrl+C.</summary>
    private const int Interrupted = 130;

    private enum StatesView
    {
        Table,
        Plain,
        Json,
    }
}
