using System.Net;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Every command refuses a bad command line the same way: one line naming the option (and the
/// accepted form), a pointer to --help, exit 2, nothing on stdout and nothing sent. The address
/// ({addr}) and $SHOUT_ADDRESS both point at a listening socket the test owns, so a command that
/// dialed anyway would show up there.
/// </summary>
public sealed class UsageErrorTests
{
    [Theory]
    // Unknown options, including the typos that used to become message data.
    [InlineData("send --adress {addr} hi", "'--adress'")]
    [InlineData("send -x hi", "'-x'")]
    [InlineData("send hi --colour", "'--colour'")]
    [InlineData("chat --adress {addr}", "'--adress'")]
    [InlineData("bench --conections 5 -a {addr}", "'--conections'")]
    [InlineData("states --prot 80", "'--prot'")]
    [InlineData("serve --listn tcp://127.0.0.1:0", "'--listn'")]
    // A bad value of each type: number, duration, address, enum, port, fingerprint, CIDR, octal.
    [InlineData("send --retries abc -a {addr} hi", "--retries")]
    [InlineData("chat --retries abc -a {addr}", "--retries")]
    [InlineData("bench --retries abc -a {addr}", "--retries")]
    [InlineData("send --connect-timeout 00:00:05 -a {addr} hi", "--connect-timeout")]
    [InlineData("send -a 9000 hi", "missing host")]
    [InlineData("send -a ftp://x:1 hi", "--address")]
    [InlineData("send --pin zz -a {addr} hi", "--pin")]
    [InlineData("bench flood -a {addr}", "pingpong, stream, hold")]
    [InlineData("bench --expect shouty -a {addr}", "--expect")]
    [InlineData("bench -c -1 -a {addr}", "--connections")]
    [InlineData("bench -s 0 -a {addr}", "--size")]
    [InlineData("bench -d soon -a {addr}", "--duration")]
    [InlineData("states --port abc", "--port")]
    [InlineData("states --port 70000", "--port")]
    [InlineData("states --interval fast", "--interval")]
    [InlineData("serve --mode shouty", "--mode")]
    [InlineData("serve --max-connections -1", "--max-connections")]
    [InlineData("serve --trusted-proxy nowhere", "--trusted-proxy")]
    [InlineData("serve --unix-mode 999", "--unix-mode")]
    // Out of range durations: a timer holds at most ~49.7 days.
    [InlineData("serve --idle-timeout 1200h", "--idle-timeout")]
    [InlineData("serve --proxy-timeout 60d", "--proxy-timeout")]
    [InlineData("serve --tls-handshake-timeout 1200h", "--tls-handshake-timeout")]
    [InlineData("serve --shutdown-timeout 1200h", "--shutdown-timeout")]
    [InlineData("serve --write-timeout 1200h", "--write-timeout")]
    [InlineData("serve --line-timeout 1200h", "--line-timeout")]
    [InlineData("send --connect-timeout 1200h -a {addr} hi", "--connect-timeout")]
    [InlineData("bench --warmup 1200h -a {addr}", "--warmup")]
    // Missing values.
    [InlineData("send -a", "--address")]
    [InlineData("send --connect-timeout", "--connect-timeout")]
    [InlineData("chat --timeout", "--timeout")]
    [InlineData("bench -a {addr} -c", "--connections")]
    [InlineData("states --port", "--port")]
    [InlineData("serve --web none --listen", "--listen")]
    [InlineData("serve --web none --idle-timeout", "--idle-timeout")]
    // Words a command does not take.
    [InlineData("states extra", "'extra'")]
    public async Task A_bad_command_line_is_one_line_exit_2_and_nothing_sent(string line, string named)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var args = line.Replace("{addr}", address, StringComparison.Ordinal).Split(' ');

        var result = await CliRunner.ShoutAsync(args, stdin: "data\n"u8.ToArray(),
            environment: new Dictionary<string, string> { ["SHOUT_ADDRESS"] = address });

        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.True(lines.Length == 2, $"expected an error line and a --help pointer, got:\n{result.Stderr}");
        Assert.StartsWith($"shout {args[0]}: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.Contains($"'shout {args[0]} --help'", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.False(listener.Pending(), "the command connected to the server although its command line was refused");
    }

    [Theory]
    [InlineData("send", "-v")]
    [InlineData("send", "--adress")]
    public async Task A_message_that_starts_with_a_dash_goes_after_double_dash(string command, string word)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var run = CliRunner.ShoutAsync([command, "-a", address, "--", word, "hi"]);
        using var peer = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var stream = peer.GetStream();
        var received = new MemoryStream();
        await stream.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(30));
        await stream.WriteAsync("OK\n"u8.ToArray());
        peer.Client.Shutdown(SocketShutdown.Send);
        var result = await run;
        Assert.Equal($"{word} hi", System.Text.Encoding.UTF8.GetString(received.ToArray()));
        Assert.Equal(0, result.ExitCode);
    }
}
