using System.Net.Sockets;
using System.Net;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Text;

namespace Shout.IntegrationTests.Cli;

public sealed class SendCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Send_with_a_message_prints_the_reply()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString(), "hello", "world"], timeout: Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("HELLO WORLD\n", result.StdoutText);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Send_takes_the_address_from_SHOUT_ADDRESS()
    {
        await using var server = await TestServer.StartAsync();
        var env = new Dictionary<string, string> { ["SHOUT_ADDRESS"] = $"127.0.0.1:{server.Endpoint.Port}" };
        var result = await CliRunner.ShoutAsync(["send", "ȿ"], timeout: Timeout, environment: env);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("\u2C7E\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_streams_stdin_and_round_trips_a_binary_file()
    {
        await using var server = await TestServer.StartAsync();
        var input = new byte[2 * 1024 * 1024 + 3];
        new Random(42).NextBytes(input);
        var result = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString()], input, Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(ShoutCase.ToUpper(input), result.Stdout);
    }

    [Fact]
    public async Task Send_to_a_line_mode_server_gets_the_unfinished_line_answered_at_eof()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line);
        var result = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString()], "a\nb"u8.ToArray(), Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("A\nB", result.StdoutText);
    }

    [Fact]
    public async Task Refused_connection_exits_non_zero_with_one_line()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var result = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{port}", "hi"], timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"shout: connection refused (tcp://127.0.0.1:{port})\n", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData("nonsense", "missing port")]
    [InlineData("ftp://x:1", "unknown scheme")]
    public async Task Malformed_address_is_a_usage_error(string address, string message)
    {
        var result = await CliRunner.ShoutAsync(["send", "-a", address, "hi"], timeout: Timeout);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
