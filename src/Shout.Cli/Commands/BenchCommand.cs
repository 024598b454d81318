using System.CommandLine;
using System.Text.Json;
using Shout.Client;
using Shout.Load;
using Shout.Server;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary><c>shout bench</c>: a closed-loop load generator for any uppercase or echo server.</summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var mode = new Argument<BenchMode>("mode")
        {
            Description = "pingpong: C connections, P messages in flight each; stream: write continuously while reading; "
                + "hold: open C connections at --rate, one message each, hold them, report server memory per connection; "
                + "room: --members in --rooms, --senders of them sending --rate lines/s each, every delivery checked (docs/rooms.md).",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => BenchMode.PingPong,
        };
        var expect = new Option<BenchExpect>("--expect") { Description = "upper: replies are the uppercase of what was sent (default); echo: replies are what was sent." };
        var connections = new Option<int>("--connections", "-c") { Description = "Concurrent connections (hold: connections to hold). Default 1.", DefaultValueFactory = _ => 1 };
        var pipeline = new Option<int>("--pipeline", "-p") { Description = "pingpong: messages in flight per connection. Default 1.", DefaultValueFactory = _ => 1 };
        var size = new Option<int?>("--size", "-s") { Description = "Bytes per message (default 32) or, in stream mode, per write (default 16384)." };
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "How long to measure (hold: how long to hold). Default 10s (hold 5s).",
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var warmup = new Option<TimeSpan?>("--warmup", "-w")
        {
            Description = "Load before measuring, not counted. Default 1s (hold: 0).",
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var rate = new Option<int>("--rate") { Description = "hold: connections opened per second. Default 2000.", DefaultValueFactory = _ => 2000 };
        var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id, for its CPU and memory. Default: the local process listening on the address." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (no live display)." };
        var room = new RoomBenchCommandOptions();

        var command = new Command("bench", "Measure a server: messages/s, MB/s, latency percentiles, every reply checked.")
        {
            mode, address, expect, connections, pipeline, size, duration, warmup, rate, serverPid, json,
        };
        client.AddTo(command);
        room.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var benchMode = parse.GetValue(mode);
            if (benchMode == BenchMode.Room)
            {
                return await room.RunAsync(parse, address, expect, rate, duration, serverPid, json, cancellationToken);
            }

            var endpoint = parse.GetValue(address)!;
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
                Rate = parse.GetValue(rate),
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

            return await RunAsync(options, parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchOptions options, bool json, CancellationToken cancellationToken)
    {
        // Ctrl+C ends the measurement early and still reports it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        BenchResult result;
        try
        {
            var live = !json && !Console.IsOutputRedirected;
            result = live
                ? await BenchReport.RunWithLiveViewAsync(options, stop.Token)
                : await BenchRunner.RunAsync(options, null, stop.Token);
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

        if (json)
        {
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, Json));
        }
        else
        {
            BenchReport.Print(result);
        }

        if (result.Mismatches > 0)
        {
            return 2;
        }

        return result.Messages > 0 ? 0 : 1;
    }
}
