using System.Globalization;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Peers;

/// <summary>Standard tools as clients: what a user would try first.</summary>
public sealed class RealPeerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Port(TestServer server) => server.Endpoint.Port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Nc_with_half_close_gets_HELLO()
    {
        var nc = Tools.Require("nc");
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.RunAsync(nc, ["-N", "127.0.0.1", Port(server)], "hello"u8.ToArray(), Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("HELLO", result.StdoutText);
    }

    [Fact]
    public async Task Ncat_gets_every_line_back()
    {
        var ncat = Tools.Require("ncat");
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.RunAsync(ncat, ["127.0.0.1", Port(server)], "one\ntwo ȿ\n"u8.ToArray(), Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ONE\nTWO \u2C7E\n", result.StdoutText);
    }

    [Fact]
    public async Task Socat_gets_a_large_binary_stream_back()
    {
        var socat = Tools.Require("socat");
        await using var server = await TestServer.StartAsync();
        var input = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(input);
        var result = await CliRunner.RunAsync(socat, ["-t", "30", "-", $"TCP:127.0.0.1:{Port(server)}"], input, Timeout);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Shout.Text.ShoutCase.ToUpper(input), result.Stdout);
    }
}
