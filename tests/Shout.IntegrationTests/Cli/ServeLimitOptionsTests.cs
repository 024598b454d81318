using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary><c>shout serve</c>'s limit, timeout and access options: listed, validated, applied.</summary>
public sealed class ServeLimitOptionsTests
{
    [Fact]
    public async Task Help_lists_every_limit_with_its_default()
    {
        var result = await CliRunner.ShoutAsync(["serve", "--help"]);
        Assert.Equal(0, result.ExitCode);
        foreach (var expected in new[]
        {
            "--max-connections", "Default 10000", "--max-connections-per-ip", "--idle-timeout", "Default 5m",
            "--write-timeout", "Default 30s", "--line-timeout", "Default 1m", "--tls-handshake-timeout", "--max-line",
            "--allow", "--deny", "--access-file",
        })
        {
            Assert.Contains(expected, result.StdoutText, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--deny", "10.0.0.1/8", "did you mean 10.0.0.0/8")]
    [InlineData("--allow", "not-a-network", "not an IP address or CIDR block")]
    [InlineData("--idle-timeout", "soon", "is not a duration")]
    [InlineData("--max-connections", "-1", "0 (no limit) or more")]
    [InlineData("--bus", "http://127.0.0.1:4222", "is not a bus address: use nats://HOST:PORT")]
    [InlineData("--slow-member", "maybe", "is not one of kick, drop")]
    [InlineData("--room-queue", "0", "is not a whole number from 1 to 1000000")]
    public async Task A_bad_value_is_a_clear_error(string option, string value, string expected)
    {
        var result = await CliRunner.ShoutAsync(["serve", "-l", "tcp://127.0.0.1:0", option, value], timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr + result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_access_file_denies_a_client_before_anything_is_read()
    {
        var dir = Repo.TempDir();
        try
        {
            var rules = Path.Combine(dir, "access.rules");
            await File.WriteAllLinesAsync(rules, ["# only the loopback, but not 127.0.0.1", "allow 127.0.0.0/8", "deny 127.0.0.1"]);
            await using var server = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--access-file", rules);
            var endpoint = await server.WaitForTcpListeningAsync();

            using (var denied = await RawClient.ConnectFromAsync(endpoint, System.Net.IPAddress.Parse("127.0.0.1")))
            {
                Assert.Empty(await RawClient.ReadToEndAsync(denied));
            }

            using var allowed = await RawClient.ConnectFromAsync(endpoint, System.Net.IPAddress.Parse("127.0.0.5"));
            await allowed.SendAsync("hi"u8.ToArray());
            allowed.Shutdown(SocketShutdown.Send);
            Assert.Equal("HI"u8.ToArray(), await RawClient.ReadToEndAsync(allowed));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

}
