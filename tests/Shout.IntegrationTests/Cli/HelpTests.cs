using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

public sealed class HelpTests
{
    [Theory]
    [InlineData("serve", "--listen")]
    [InlineData("serve", "--shutdown-timeout")]
    [InlineData("send", "--address")]
    [InlineData("chat", "--address")]
    public async Task Every_command_has_help(string command, string option)
    {
        var result = await CliRunner.ShoutAsync([command, "--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(option, result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var result = await CliRunner.ShoutAsync(["--version"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StdoutText);
    }
}
