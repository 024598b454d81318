using System.CommandLine;
using Shout.Cli.Commands;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Every short flag of every command has one meaning (docs/cli.md has the table): none is declared
/// twice in one command, and one letter means the same option in every command, except the
/// exceptions below, each with its reason. A new clash fails here before a user meets it.
/// </summary>
public sealed class ShortFlagTests
{
    /// <summary>Letters that knowingly mean different options in different commands, and why.</summary>
    private static readonly Dictionary<string, (string[] Meanings, string Reason)> Exceptions = new()
    {
        ["-w"] = (["--wait", "--warmup", "--watch"],
            "send -w is nc's wait; bench -w (warmup) and states -w (watch) predate it and never dial as a client does"),
        ["-p"] = (["--pipeline", "--port"],
            "bench -p is its pipeline depth; states and trace take a port to filter on, as ss and tcpdump users expect"),
        ["-i"] = (["--interface", "--interval"],
            "bench -i is iperf3's report interval; trace -i is tcpdump's capture interface"),
    };

    private static Command[] Commands() =>
        [ServeCommand.Create(), SendCommand.Create(), ChatCommand.Create(), BenchCommand.Create(), StatesCommand.Create(), TraceCommand.Create()];

    [Fact]
    public void No_short_flag_is_declared_twice_in_one_command()
    {
        var clashes = Commands()
            .SelectMany(c => c.Options.SelectMany(o => Shorts(o).Select(s => (Command: c.Name, Short: s, o.Name))))
            .GroupBy(x => (x.Command, x.Short))
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.Command} {g.Key.Short}: {string.Join(", ", g.Select(x => x.Name))}")
            .ToList();
        Assert.True(clashes.Count == 0, string.Join("\n", clashes));
    }

    [Fact]
    public void A_short_flag_means_one_option_across_commands_unless_it_is_a_listed_exception()
    {
        var meanings = Commands()
            .SelectMany(c => c.Options.SelectMany(o => Shorts(o).Select(s => (Short: s, o.Name))))
            .GroupBy(x => x.Short)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal).ToArray());
        var problems = new List<string>();
        foreach (var (flag, names) in meanings)
        {
            if (names.Length > 1 && !(Exceptions.TryGetValue(flag, out var allowed) && allowed.Meanings.SequenceEqual(names)))
            {
                problems.Add($"{flag} means {string.Join(", ", names)}");
            }
        }

        // An exception no longer needed is removed, so the list stays the truth.
        problems.AddRange(Exceptions.Keys.Where(flag => !meanings.TryGetValue(flag, out var names) || names.Length < 2)
            .Select(flag => $"{flag} is listed as an exception but means one thing"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_nc_flags_mean_what_they_mean_in_nc_where_send_has_them()
    {
        var send = SendCommand.Create();
        string? Long(string flag) => send.Options.FirstOrDefault(o => o.Aliases.Contains(flag))?.Name;
        Assert.Equal("--wait", Long("-w"));
        Assert.Equal("--quit-after", Long("-q"));
        Assert.Equal("--udp", Long("-u"));
        Assert.Equal("--verbose", Long("-v"));
    }

    private static IEnumerable<string> Shorts(Option option) =>
        option.Aliases.Append(option.Name).Where(a => a.Length == 2 && a[0] == '-' && a[1] != '-');
}
