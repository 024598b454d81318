using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Shout.Cli.Parsing;
using Shout.Client;
using Shout.Configuration;
using Shout.Endpoints;
using Shout.Load;
using Shout.Load.Room;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary><c>shout bench room</c>: the options only room mode has, and how its result is printed.</summary>
internal sealed class RoomBenchCommandOptions
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

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
        Option<TimeSpan?> duration, Option<int?> serverPid, Option<bool> json, CancellationToken cancellationToken)
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
        };
        RoomBenchResult result;
        try
        {
            options.Validate();
            var quiet = parse.GetValue(json);
            result = await RoomBench.RunAsync(options, quiet ? null : line => Console.Error.WriteLine(line), cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or TimeoutException || ClientErrors.IsConnectionFailure(e))
        {
            await Console.Error.WriteLineAsync($"shout: {(ClientErrors.IsConnectionFailure(e) ? ClientErrors.Describe(e, options.Endpoints[0]) : e.Message)}");
            return 1;
        }

        if (parse.GetValue(json))
        {
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, Json));
        }
        else
        {
            Print(result);
        }

        return result.Lost + result.Duplicated + result.Reordered + result.Malformed > 0 ? 2 : result.Delivered > 0 ? 0 : 1;
    }

    private static void Print(RoomBenchResult r)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("bench room").AddColumn(new TableColumn("").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        var c = CultureInfo.InvariantCulture;
        Row("members / rooms / senders", string.Create(c, $"{r.Members} / {r.Rooms} / {r.Senders}"));
        Row("lines sent", r.Sent.ToString("N0", c));
        Row("deliveries owed", r.Expected.ToString("N0", c));
        Row("delivered (once, in order)", r.Delivered.ToString("N0", c));
        Row("lost / duplicated / reordered", string.Create(c, $"{r.Lost} / {r.Duplicated} / {r.Reordered}"));
        Row("deliveries/s", r.DeliveriesPerSecond.ToString("N0", c));
        if (r.Malformed > 0)
        {
            Row("malformed lines (bytes of senders interleaved)", r.Malformed.ToString("N0", c));
        }

        Row("client CPU (cores busy)", string.Create(c, $"{r.ClientCpuSeconds:N1} s ({r.ClientCores:N2} of {Environment.ProcessorCount})"));
        if (r.ServerCpuSeconds is { } server)
        {
            Row("server CPU / per delivery", string.Create(c, $"{server:N1} s / {r.ServerMicrosecondsPerDelivery:N3} µs"));
        }
        Row("fan-out latency p50 / p99 / p99.9 / max", string.Create(c, $"{r.Latency.P50:N0} / {r.Latency.P99:N0} / {r.Latency.P999:N0} / {r.Latency.Max:N0} µs"));
        if (r.ServerMemory is { } m)
        {
            Row("server RSS before / with members", string.Create(c, $"{m.BaselineBytes / 1048576.0:N1} / {m.HeldBytes / 1048576.0:N1} MiB"));
            Row("server RSS per member", string.Create(c, $"{m.BytesPerConnection / 1024:N1} KiB"));
        }

        AnsiConsole.Write(table);
        if (r.Lost + r.Duplicated + r.Reordered > 0)
        {
            AnsiConsole.MarkupLine($"[red bold]{r.Lost} lost, {r.Duplicated} duplicated, {r.Reordered} reordered[/]");
        }
    }
}
