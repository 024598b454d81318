using System.CommandLine;
using Shout.Cli.Parsing;
using Shout.Client;
using Shout.Configuration;
using Shout.Endpoints;
using Shout.Load;
using Shout.Load.Room;

namespace Shout.Cli.Commands;

/// <summary><c>shout bench room</c>: the options only room mode has, and how its result is printed.</summary>
internal sealed class RoomBenchCommandOptions
{
    private readonly Option<int> _members = new("--members", "-m")
    {
        Description = "room: members connected. Default 100.",
        HelpName = "count",
        DefaultValueFactory = _ => 100,
        CustomParser = CliValues.Int(2, SizeLimits.BenchConnections),
    };

    private readonly Option<int> _rooms = new("--rooms")
    {
        Description = "room: rooms the members are spread over. Default 1.",
        HelpName = "count",
        DefaultValueFactory = _ => 1,
        CustomParser = CliValues.Int(1, SizeLimits.BenchConnections),
    };

    private readonly Option<int> _senders = new("--senders")
    {
        Description = "room: how many members send. Default 10.",
        HelpName = "count",
        DefaultValueFactory = _ => 10,
        CustomParser = CliValues.Int(1, SizeLimits.BenchConnections),
    };

    private readonly Option<ShoutEndpoint[]> _instances = new("--instance")
    {
        Description = "room: another instance sharing the rooms (e.g. over NATS), repeatable; members are spread over --address and these.",
        HelpName = "address",
        CustomParser = CommonOptions.ParseEndpoints,
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        command.Add(_members);
        command.Add(_rooms);
        command.Add(_senders);
        command.Add(_instances);
    }

    public async Task<int> RunAsync(ParseResult parse, Option<ShoutEndpoint> address, Option<BenchExpect> expect, Option<int?> rate,
        Option<TimeSpan?> duration, Option<int?> serverPid, Option<bool> json, Option<TimeSpan?> interval,
        System.Net.Sockets.AddressFamily? family, CancellationToken cancellationToken)
    {
        var options = new RoomBenchOptions
        {
            Endpoints = [parse.GetValue(address)!, .. parse.GetValue(_instances) ?? []],
            Members = parse.GetValue(_members),
            Rooms = parse.GetValue(_rooms),
            Senders = parse.GetValue(_senders),
            Rate = parse.GetValue(rate) ?? 100,
            Duration = parse.GetValue(duration) ?? TimeSpan.FromSeconds(10),
            ShoutRooms = parse.GetValue(expect) == BenchExpect.Upper,
            ServerPid = parse.GetValue(serverPid),
            Family = family,
        };
        var quiet = parse.GetValue(json);
        var intervals = parse.GetValue(interval) is { } every && every > TimeSpan.Zero
            ? new RoomBenchIntervals(every, quiet ? null : i => Console.Out.WriteLine(RoomBenchIntervals.Format(i)))
            : null;

        // Ctrl+C stops the senders early; what was sent is still drained, checked and reported, marked INTERRUPTED.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        RoomBenchResult result;
        try
        {
            options.Validate();
            result = await RoomBench.RunAsync(options, quiet ? null : line => Console.Error.WriteLine(line), intervals is null ? null : intervals.OnProgress, stop.Token);
            intervals?.Finish();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("shout: bench room interrupted before the first line was sent; nothing measured");
            return BenchCommand.Interrupted;
        }
        catch (Exception e) when (e is ArgumentException or TimeoutException || ClientErrors.IsConnectionFailure(e))
        {
            await Console.Error.WriteLineAsync($"shout: {(ClientErrors.IsConnectionFailure(e) ? ClientErrors.Describe(e, options.Endpoints[0]) : e.Message)}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        result = result with { Interrupted = stop.IsCancellationRequested };
        var where = string.Join(", ", options.Endpoints);
        if (quiet)
        {
            await Console.Out.WriteLineAsync(RoomBenchReport.Json(result, where, intervals?.All ?? []));
        }
        else
        {
            RoomBenchReport.Print(result, where, plain: Console.IsOutputRedirected);
        }

        if (result.Lost + result.Duplicated + result.Reordered + result.Malformed > 0)
        {
            return 2;
        }

        return result.Interrupted ? BenchCommand.Interrupted : result.Delivered > 0 ? 0 : 1;
    }
}
