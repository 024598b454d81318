using System.Net;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// <c>-4</c>/<c>-6</c> on the client commands, as nc, ncat and curl have them: a host name's
/// addresses of the other family are never dialed; both together, or an IP literal of the other
/// family, are refused in one line with exit 2 before anything is dialed.
/// </summary>
public sealed class AddressFamilyFlagTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    /// <summary>Two recording servers on one port number, one on 127.0.0.1 and one on [::1].</summary>
    private static (RecordingServer V4, RecordingServer V6) PairOnOnePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var v6 = new RecordingServer(RecordingServer.Mode.Upper, new IPEndPoint(IPAddress.IPv6Loopback, 0));
            try
            {
                return (new RecordingServer(RecordingServer.Mode.Upper, new IPEndPoint(IPAddress.Loopback, v6.Port)), v6);
            }
            catch (SocketException) when (attempt < 50)
            {
                // That port number is taken on 127.0.0.1: try another.
                v6.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    [Fact]
    public async Task Send_4_dials_only_the_IPv4_addresses_of_a_host_name()
    {
        var (v4, v6) = PairOnOnePort();
        await using var _ = v4;
        await using var __ = v6;
        var result = await CliRunner.ShoutAsync(["send", "-4", "-a", $"localhost:{v4.Port}", "hi"], timeout: Command);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("HI\n", result.StdoutText);
        Assert.Equal("hi", v4.Received);
        Assert.Equal(0, v6.Connections);
    }

    [Fact]
    public async Task Send_6_dials_only_the_IPv6_addresses_of_a_host_name()
    {
        var (v4, v6) = PairOnOnePort();
        await using var _ = v4;
        await using var __ = v6;
        var result = await CliRunner.ShoutAsync(["send", "-6", "-a", $"localhost:{v6.Port}", "hi"], timeout: Command);

        // Where localhost is also ::1 (an /etc/hosts line), -6 reaches the IPv6 server; where it is
        // 127.0.0.1 only (as on the development machine), -6 finds nothing to dial and says so.
        var addresses = await Dns.GetHostAddressesAsync("localhost");
        if (addresses.Contains(IPAddress.IPv6Loopback))
        {
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal("HI\n", result.StdoutText);
            Assert.Equal("hi", v6.Received);
        }
        else
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"shout: localhost has no IPv6 address (it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}) "
                + $"(tcp://localhost:{v6.Port})\n", result.Stderr);
        }

        Assert.Equal(0, v4.Connections);
    }

    [Fact]
    public async Task Bench_4_and_a_host_name_measures_over_IPv4()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["bench", "-4", "-a", $"localhost:{server.Endpoint.Port}", "-d", "1s", "--warmup", "0s", "--json"], timeout: Command);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("\"messages\"", result.StdoutText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("send", "hi")]
    [InlineData("chat")]
    [InlineData("bench")]
    public async Task Four_and_six_together_are_refused_in_one_line_with_exit_2(params string[] command)
    {
        var result = await CliRunner.ShoutAsync([command[0], "-4", "-6", "-a", "localhost:1", .. command.Skip(1)], timeout: Command);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"shout {command[0]}: -4 and -6 together: give one (or neither, to try every address)\n"
            + $"Try 'shout {command[0]} --help' for more information.\n", result.Stderr);
        Assert.Equal("", result.StdoutText);
    }

    [Fact]
    public async Task An_IP_literal_of_the_other_family_is_refused_naming_it_and_never_dialed()
    {
        var (v4, v6) = PairOnOnePort();
        await using var _ = v4;
        await using var __ = v6;
        var port = v4.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[][] lines =
        [
            ["send", "-6", "-a", $"127.0.0.1:{port}", "hi"],
            ["send", "-6", "127.0.0.1", port, "hi"],
            ["send", "-4", "-a", $"[::1]:{port}", "hi"],
            ["bench", "-6", "-a", $"127.0.0.1:{port}", "-d", "1s"],
        ];
        foreach (var line in lines)
        {
            var result = await CliRunner.ShoutAsync(line, timeout: Command);
            var (flag, literal, family, wanted) = line[1] == "-6" ? ("-6", "127.0.0.1", "IPv4", "IPv6") : ("-4", "::1", "IPv6", "IPv4");
            Assert.Equal(2, result.ExitCode);
            Assert.Equal($"shout {line[0]}: {flag}: {literal} is an {family} address; give a host name or an {wanted} address, or drop {flag}\n"
                + $"Try 'shout {line[0]} --help' for more information.\n", result.Stderr);
        }

        Assert.Equal(0, v4.Connections + v6.Connections);
    }

    [Theory]
    [InlineData("-u")]
    [InlineData("-4")]
    [InlineData("-6")]
    public async Task A_malformed_address_beside_a_dialing_flag_is_the_usual_usage_error_not_a_stack_trace(string flag)
    {
        var result = await CliRunner.ShoutAsync(["send", flag, "-a", "nonsense", "hi"], timeout: Command);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("shout send: --address: 'nonsense': missing port; expected HOST:PORT, e.g. 127.0.0.1:8080\n"
            + "Try 'shout send --help' for more information.\n", result.Stderr);
    }
}
