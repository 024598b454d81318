using System.CommandLine;
using Shout.Cli.Commands;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Every short flag of every command has one meaning (docs/cli.md has the table): none is declared
/// twice in one command, and one letter means the same option in every command that has it, with no
/// exceptions. A new clash fails here before a user meets it.
/// </summary>
public sealed class ShortFlagTests
{
    private static Command[] Commands() =>
        [ServeCommand.Create(), SendCommand.Create(), ChatCommand.Create(), BenchCommand.Create(), StatesCommand.Create(), TraceCommand.Create(),
            ProxyCommand.Create()];

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
    public void A_short_flag_means_one_option_across_commands()
    {
        var problems = Commands()
            .SelectMany(c => c.Options.SelectMany(o => Shorts(o).Select(s => (Short: s, o.Name))))
            .GroupBy(x => x.Short)
            .Select(g => (Flag: g.Key, Names: g.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal).ToArray()))
            .Where(x => x.Names.Length > 1)
            .Select(x => $"{x.Flag} means {string.Join(", ", x.Names)}")
            .ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [InlineData("-w", "--wait")]
    [InlineData("-p", "--port")]
    [InlineData("-i", "--interval")]
    public void The_once_shared_letters_keep_their_decided_meaning(string flag, string meaning)
    {
        var names = Commands().SelectMany(c => c.Options).Where(o => Shorts(o).Contains(flag)).Select(o => o.Name).Distinct().ToArray();
        Assert.Equal([meaning], names);
    }

    [Theory]
    [InlineData("bench", "-w", "0s")]
    [InlineData("bench", "-p", "2")]
    [InlineData("states", "-w")]
    [InlineData("trace", "-i", "lo")]
    public async Task A_short_form_that_was_removed_is_an_unknown_option_exit_2(params string[] args)
    {
        var result = await CliRunner.ShoutAsync(args, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"shout {args[0]}: unknown option '{args[1]}' (a message that starts with '-' goes after '--')", lines[0]);
        Assert.Equal($"Try 'shout {args[0]} --help' for more information.", lines[1]);
        Assert.Equal(2, lines.Length);
        Assert.Equal("", result.StdoutText);
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
        Assert.Equal("--ipv4", Long("-4"));
        Assert.Equal("--ipv6", Long("-6"));
    }

    private static IEnumerable<string> Shorts(Option option) =>
        option.Aliases.Append(option.Name).Where(a => a.Length == 2 && a[0] == '-' && a[1] != '-');
}
