using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Shout.Cli.Parsing;
using Shout.Trace;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout trace</c>: the tutorial's 2.5/2.6 drawings, live. Captures the TCP and UDP packets of
/// one port and prints each connection packet by packet: who sent it, flags, numbers relative to
/// x and y, the state each side enters, and a summary at its end. With a command after
/// <c>--</c>, starts it once the capture is ready and stops when it has exited and its connections
/// have ended.
/// </summary>
internal static class TraceCommand
{
    private static readonly TimeSpan QuietSpell = TimeSpan.FromMilliseconds(200);

    public static Command Create()
    {
        var address = CommonOptions.Address();
        address.Description = "The server whose port is traced (its host, when not 0.0.0.0, narrows the capture to it). "
            + $"Default {CommonOptions.DefaultAddress}, or ${CommonOptions.AddressVariable}.";
        var port = new Option<int?>("--port", "-p")
        {
            Description = "The port to trace (TCP and UDP). Default: the port of --address.",
            HelpName = "port",
            CustomParser = CliValues.OptionalInt(1, 65535),
        };
        var device = new Option<string?>("--interface") { Description = "Capture on this interface. Default: lo for a loopback address, else any." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: each packet, datagram and connection summary (fields in docs/trace.md)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also print the capture filter (BPF, as tcpdump takes it) on stderr." };
        var connections = new Option<int>("--connections", "-n")
        {
            Description = "Stop after this many TCP connections have ended. Default 0: until Ctrl+C.",
            HelpName = "count",
            CustomParser = CliValues.Int(0),
        };
        var linger = new Option<TimeSpan>("--linger")
        {
            Description = "With a command: after it exits, wait at most this long for its connections to end. Default 5s.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
            CustomParser = CliValues.Duration,
        };
        var run = new Argument<string[]>("command")
        {
            Description = "After --: a command to run once the capture is ready (its output goes to stderr, the trace to stdout).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("trace", "Watch the packets of a port: handshake, data and four-way close, as the tutorial draws them (needs CAP_NET_RAW).")
        {
            address, port, device, json, verbose, connections, linger, run,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var endpoint = parse.GetValue(address)!;
            var tracedPort = parse.GetValue(port) ?? endpoint.Port;
            if (tracedPort is < 1 or > 65535)
            {
                await Console.Error.WriteLineAsync($"shout: {endpoint} has no port to trace; give --port");
                return 1;
            }

            var host = IPAddress.TryParse(endpoint.Host, out var ip) ? ip : null;
            var settings = new TraceRun(tracedPort, host, parse.GetValue(device) ?? WireCapture.InterfaceFor(host ?? IPAddress.Loopback),
                parse.GetValue(json), parse.GetValue(connections), parse.GetValue(linger), parse.GetValue(run) ?? [])
            {
                Verbose = parse.GetValue(verbose),
            };
            return await RunAsync(settings, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(TraceRun settings, CancellationToken cancellationToken)
    {
        var packets = Channel.CreateUnbounded<TracedPacket>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        WireCapture capture;
        try
        {
            capture = WireCapture.Start(settings.Interface, WireCapture.FilterFor([settings.Port], settings.Host),
                p => packets.Writer.TryWrite(p));
        }
        catch (TraceUnavailableException e)
        {
            await Console.Error.WriteLineAsync($"shout: {e.Message}");
            return 2;
        }

        using (capture)
        {
            // Ctrl+C ends the trace: what was captured is printed, and the exit code is 130 as for
            // chat and bench (a shell's code for a command stopped by SIGINT).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            await Console.Error.WriteLineAsync($"shout: {TraceStatus.Describe(settings.Port, settings.Host, capture.Interface)}; Ctrl+C to stop");
            if (settings.Verbose)
            {
                await Console.Error.WriteLineAsync($"shout: capture filter: {capture.Filter}");
            }

            var printer = new TracePrinter(settings.Json, settings.Json || Console.IsOutputRedirected);
            var tracker = new WireTracker([settings.Port]);
            Process? child = null;
            if (settings.Command.Length > 0)
            {
                child = StartChild(settings.Command);
                if (child is null)
                {
                    return 1;
                }
            }

            using (child)
            {
                var ended = 0;
                var seen = false;
                var childDone = child?.WaitForExitAsync(stop.Token);
                var deadline = (DateTimeOffset?)null;
                var lastPacket = DateTimeOffset.UtcNow;
                try
                {
                    while (true)
                    {
                        if (childDone is { IsCompleted: true })
                        {
                            deadline ??= DateTimeOffset.UtcNow + settings.Linger;
                            // A short quiet spell lets the capture hand over the last packets it holds.
                            var quiet = DateTimeOffset.UtcNow - lastPacket > QuietSpell;
                            if (seen && tracker.OpenConnections == 0 && quiet || DateTimeOffset.UtcNow >= deadline)
                            {
                                break;
                            }
                        }

                        Task wait = childDone is { IsCompleted: false } ? Task.WhenAny(packets.Reader.WaitToReadAsync(stop.Token).AsTask(), childDone)
                            : packets.Reader.WaitToReadAsync(stop.Token).AsTask().WaitAsync(TimeSpan.FromMilliseconds(100), stop.Token);
                        try
                        {
                            await wait;
                        }
                        catch (TimeoutException)
                        {
                            continue;
                        }

                        while (packets.Reader.TryRead(out var packet))
                        {
                            lastPacket = DateTimeOffset.UtcNow;
                            foreach (var record in tracker.Add(packet))
                            {
                                seen = true;
                                printer.Print(record);
                                if (record is TraceSummary && ++ended == settings.Connections)
                                {
                                    return 0;
                                }
                            }
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C.
                }

                if (stop.IsCancellationRequested)
                {
                    return Interrupted;
                }

                return child is { HasExited: true } ? child.ExitCode : 0;
            }
        }
    }

    private static Process? StartChild(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            var process = Process.Start(info)!;

            // The command's own output goes to stderr, so stdout holds the trace alone (and stays valid JSON with --json).
            process.OutputDataReceived += (_, e) => WriteErr(e.Data);
            process.ErrorDataReceived += (_, e) => WriteErr(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"shout: cannot run '{command[0]}': {e.Message}");
            return null;
        }
    }

    private static void WriteErr(string? line)
    {
        if (line is not null)
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>Exit code of a trace stopped by Ctrl+C, as chat's and bench's.</summary>
    private const int Interrupted = 130;

    private sealed record TraceRun(int Port, IPAddress? Host, string Interface, bool Json, int Connections, TimeSpan Linger, string[] Command)
    {
        public bool Verbose { get; init; }
    }

    /// <summary>Prints records: JSON lines, plain lines, or coloured lines on a terminal; a header before a connection's first line.</summary>
    private sealed class TracePrinter(bool json, bool plain)
    {
        private readonly HashSet<int> _headed = [];

        public void Print(TraceRecord record)
        {
            if (json)
            {
                Console.Out.WriteLine(TraceJson.Serialize(record));
                Console.Out.Flush();
                return;
            }

            if (_headed.Add(record.Connection))
            {
                WriteLine(TraceFormat.Header(record, markup: !plain));
            }

            WriteLine(plain ? TraceFormat.Plain(record) : TraceFormat.Markup(record));
        }

        private void WriteLine(string text)
        {
            if (plain)
            {
                Console.Out.WriteLine(text);
                Console.Out.Flush();
            }
            else
            {
                AnsiConsole.MarkupLine(text);
            }
        }
    }
}
