using System.CommandLine;
using Shout.Cli.Parsing;
using Shout.Client;
using Shout.Configuration;
using Shout.Load;
using Shout.Transports;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary><c>shout bench</c>: a closed-loop load generator for any uppercase or echo server.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var mode = new Argument<BenchMode>("mode")
        {
            Description = "pingpong: C connections, P messages in flight each; stream: write continuously while reading; "
                + "hold: open C connections at --connect-rate, one message each, hold them, report server memory per connection; "
                + "room: --members in --rooms, --senders of them sending --rate lines/s each, every delivery checked (docs/rooms.md). Default pingpong.",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = CliValues.EnumForm<BenchMode>(),
            DefaultValueFactory = _ => BenchMode.PingPong,
            CustomParser = CliValues.Enum<BenchMode>,
        };
        var expect = new Option<BenchExpect>("--expect")
        {
            Description = "upper: replies are the uppercase of what was sent (default); echo: replies are what was sent.",
            HelpName = CliValues.EnumForm<BenchExpect>(),
            CustomParser = CliValues.Enum<BenchExpect>,
        };
        var connections = new Option<int>("--connections", "-c")
        {
            Description = "Concurrent connections (hold: connections to hold). Default 1.",
            HelpName = "count",
            DefaultValueFactory = _ => 1,
            CustomParser = CliValues.Int(1, SizeLimits.BenchConnections),
        };
        var pipeline = new Option<int>("--pipeline")
        {
            Description = "pingpong: messages in flight per connection. Default 1.",
            HelpName = "count",
            DefaultValueFactory = _ => 1,
            CustomParser = CliValues.Int(1, SizeLimits.BenchPipeline),
        };
        var size = new Option<int?>("--size", "-s")
        {
            Description = "Bytes per message or, in stream mode, per write. Default 32 (stream: 16384).",
            HelpName = "bytes",
            CustomParser = CliValues.OptionalInt(1, SizeLimits.BenchMessage),
        };
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "How long to measure (hold: how long to hold). Default 10s (hold 5s).",
            HelpName = "duration",
            CustomParser = CliValues.OptionalDuration,
        };
        var warmup = new Option<TimeSpan?>("--warmup")
        {
            Description = "Load before measuring, not counted. Default 1s (hold: 0).",
            HelpName = "duration",
            CustomParser = CliValues.OptionalDuration,
        };
        var connectRate = new Option<int>("--connect-rate", "-R")
        {
            Description = "hold: new connections opened per second, as tcpkali's --connect-rate. Default 2000.",
            HelpName = "per-second",
            DefaultValueFactory = _ => 2000,
            CustomParser = CliValues.Int(1),
        };
        var rate = new Option<int?>("--rate", "-r")
        {
            Description = "pingpong: most messages per second each connection sends, as tcpkali's --message-rate; room: lines per second each sender sends. Default: as fast as replies come (pingpong), 100 (room).",
            HelpName = "per-second",
            CustomParser = CliValues.OptionalInt(1),
        };
        var interval = new Option<TimeSpan?>("--interval", "-i")
        {
            Description = "Also report every interval of the measurement (e.g. 1s), as iperf3 -i; in --json as \"intervals\".",
            HelpName = "duration",
            CustomParser = CliValues.OptionalDuration,
        };
        var serverPid = new Option<int?>("--server-pid")
        {
            Description = "The server's process id, for its CPU and memory. Default: the local process listening on the address.",
            HelpName = "pid",
            CustomParser = CliValues.OptionalInt(1),
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (no live display)." };
        var room = new RoomBenchCommandOptions();

        var command = new Command("bench", "Measure a server: messages/s, MB/s, latency percentiles, every reply checked.")
        {
            mode, address, expect, connections, pipeline, size, duration, warmup, rate, connectRate, interval, serverPid, json,
        };
        client.AddTo(command, address);
        room.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var benchMode = parse.GetValue(mode);
            if (client.FamilyProblem(parse, parse.GetValue(address)!) is { } family)
            {
                return await CliRunner.UsageErrorAsync(parse, family);
            }

            if (benchMode == BenchMode.Room)
            {
                return await room.RunAsync(parse, address, expect, rate, duration, serverPid, json, interval, client.Family(parse), cancellationToken);
            }

            var endpoint = client.Endpoint(parse, address);
            var options = new BenchOptions
            {
                Endpoint = endpoint,
                Mode = benchMode,
                Expect = parse.GetValue(expect),
                Connections = parse.GetValue(connections),
                Pipeline = parse.GetValue(pipeline),
                Size = parse.GetValue(size) ?? (benchMode == BenchMode.Stream ? 16 * 1024 : 32),
                Duration = parse.GetValue(duration) ?? TimeSpan.FromSeconds(benchMode == BenchMode.Hold ? 5 : 10),
                Warmup = parse.GetValue(warmup) ?? (benchMode == BenchMode.Hold ? TimeSpan.Zero : TimeSpan.FromSeconds(1)),
                Rate = parse.GetValue(connectRate),
                MessageRate = parse.GetValue(rate),
                ServerPid = parse.GetValue(serverPid),
                Client = client.Read(parse),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"shout: {e.Message}");
                return 1;
            }

            // The generator's continuations run on the epoll thread: no thread-pool hop per reply,
            // measured ~15% less CPU per message (docs/benchmarks.md). Must precede the first socket.
            if (Environment.GetEnvironmentVariable(SocketTuning.InlineCompletionsVariable) is null)
            {
                Environment.SetEnvironmentVariable(SocketTuning.InlineCompletionsVariable, "1");
            }

            if (client.Verbose(parse))
            {
                var pid = options.ServerPid ?? ServerProcess.FindListener(endpoint);
                await Console.Error.WriteLineAsync($"shout: bench {benchMode.ToString().ToLowerInvariant()} against {endpoint}, {options.Connections} connections; "
                    + (pid is { } p ? $"server process {p} (its CPU and memory are read)" : "no local server process found (its CPU and memory stay unknown)"));
            }

            if (options.MessageRate is not null && benchMode != BenchMode.PingPong)
            {
                await Console.Error.WriteLineAsync("shout bench: --rate paces pingpong only (stream writes as fast as the server reads; hold sends one message)");
                return CliRunner.UsageError;
            }

            return await RunAsync(options, parse.GetValue(json), parse.GetValue(interval), cancellationToken);
        });
        return command;
    }

    /// <summary>Exit code of a run stopped by Ctrl+C, as a shell reports a command killed by SIGINT (128 + 2).</summary>
    public const int Interrupted = 130;

    private static async Task<int> RunAsync(BenchOptions options, bool json, TimeSpan? interval, CancellationToken cancellationToken)
    {
        // Ctrl+C ends the measurement early and still reports it, marked as interrupted.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var intervals = interval is { } every && every > TimeSpan.Zero
            ? new BenchIntervals(every, json ? null : i => Console.Out.WriteLine(BenchIntervals.Format(i)))
            : null;
        BenchResult result;
        try
        {
            // Interval lines are printed as they come, like iperf3, so no live line competes with them.
            var live = !json && intervals is null && !Console.IsOutputRedirected;
            result = live
                ? await BenchReport.RunWithLiveViewAsync(options, stop.Token)
                : await BenchRunner.RunAsync(options, intervals is null ? null : intervals.OnProgress, stop.Token);
            intervals?.Finish();
        }
        catch (Exception e) when (ClientErrors.IsConnectionFailure(e) || e is NotSupportedException)
        {
            await Console.Error.WriteLineAsync($"shout: {(e is NotSupportedException ? e.Message : ClientErrors.Describe(e, options.Endpoint))}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        result = result with { Interrupted = stop.IsCancellationRequested };
        if (json)
        {
            await Console.Out.WriteLineAsync(BenchJson.Serialize(result, intervals?.All ?? []));
        }
        else
        {
            BenchReport.Print(result, plain: Console.IsOutputRedirected);
        }

        if (result.Mismatches > 0)
        {
            return 2;
        }

        if (result.Interrupted)
        {
            return Interrupted;
        }

        return result.Messages > 0 ? 0 : 1;
    }
}
