using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>Help snapshots: each default once, in the form the parser accepts; no .NET names.</summary>
public sealed partial class HelpTextTests
{
    [Theory]
    [InlineData("serve")]
    [InlineData("send")]
    [InlineData("chat")]
    [InlineData("bench")]
    [InlineData("states")]
    [InlineData("proxy")]
    public async Task Help_shows_each_default_once_in_the_parsers_form(string command)
    {
        var result = await CliRunner.ShoutAsync([command, "--help"]);
        Assert.Equal(0, result.ExitCode);
        var help = result.StdoutText;
        Assert.Empty(result.Stderr);
        Assert.DoesNotContain("[default:", help, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\d\d:\d\d:\d\d", help);
        Assert.DoesNotContain("System.", help, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"<[A-Z][a-z]+\|", help);
        Assert.Contains("-v, --verbose", help, StringComparison.Ordinal); // as nc -v, on every command

        // One option's text, wrapped or not, says "Default" at most once.
        foreach (var row in OptionRows(help))
        {
            Assert.True(Regex.Count(row, @"\b[Dd]efault\b") <= 1, $"doubled default in: {row}");
        }

        // Every duration default is written as the parser takes it (e.g. 5s, 1m), and the parser takes it.
        foreach (Match m in DurationDefault().Matches(help))
        {
            Assert.True(Shout.Configuration.DurationParser.TryParse(m.Groups[1].Value, out _), m.Value);
        }
    }

    [Fact]
    public async Task Serve_help_puts_limits_and_tuning_under_their_own_headings()
    {
        var help = (await CliRunner.ShoutAsync(["serve", "--help"])).StdoutText;
        var options = help.IndexOf("Options:", StringComparison.Ordinal);
        var limits = help.IndexOf("Limits and timeouts:", StringComparison.Ordinal);
        var tuning = help.IndexOf("Tuning", StringComparison.Ordinal);
        Assert.True(options >= 0 && limits > options && tuning > limits, help);
        Assert.True(help.IndexOf("--idle-timeout", StringComparison.Ordinal) > limits);
        Assert.True(help.IndexOf("--block-size", StringComparison.Ordinal) > tuning);
        Assert.True(help.IndexOf("--listen", StringComparison.Ordinal) < limits);
    }

    [Fact]
    public async Task Bench_help_names_the_modes_as_the_parser_takes_them()
    {
        var help = (await CliRunner.ShoutAsync(["bench", "--help"])).StdoutText;
        Assert.Contains("<pingpong|stream|hold|room>", help, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.ShoutAsync(["bench", "pingpong", "--help"])).ExitCode);
    }

    private static IEnumerable<string> OptionRows(string help)
    {
        var row = "";
        foreach (var line in help.Split('\n'))
        {
            if (Regex.IsMatch(line, @"^  -"))
            {
                if (row.Length > 0)
                {
                    yield return row;
                }

                row = line;
            }
            else if (line.StartsWith("    ", StringComparison.Ordinal) && row.Length > 0)
            {
                row += " " + line.Trim();
            }
            else if (row.Length > 0)
            {
                yield return row;
                row = "";
            }
        }

        if (row.Length > 0)
        {
            yield return row;
        }
    }

    [GeneratedRegex(@"Default (\d+(?:ms|s|m|h))\b")]
    private static partial Regex DurationDefault();
}
