using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.WebSocketClient;

/// <summary>
/// Addresses a user can type wrong, through every command that takes one: each gets exactly one
/// line on stderr saying what is wrong, a non-zero exit, no stack trace and nothing on stdout.
/// Nothing here sends a packet off the machine: the one foreign address (192.0.2.1, TEST-NET-1)
/// is only given to serve, which must refuse to bind it.
/// </summary>
public sealed class AddressErrorTableTests
{
    private const string TooLongUnixPath = "unix:///tmp/shout-a-socket-path-longer-than-the-108-bytes-a-unix-socket-address-can-hold-is-refused-before-any-socket.sock";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string, string> ClientCases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var command in (string[])["send", "chat", "bench"])
        {
            cases.Add(command, "tcp://", "missing port");
            cases.Add(command, "tcp://host", "missing port");
            cases.Add(command, "udp://[::1", "an IPv6 address is written [ADDRESS]:PORT");
            cases.Add(command, "ws://127.0.0.1:1", "connection refused (ws://127.0.0.1:1/ws)");
            cases.Add(command, "wss://127.0.0.1:1/ws", "connection refused (wss://127.0.0.1:1/ws)");
            cases.Add(command, "foo://x", "unknown scheme 'foo://'");
            cases.Add(command, "unix:///no/such/dir/s.sock", "no such directory /no/such/dir (unix:///no/such/dir/s.sock)");
            cases.Add(command, "unix:///tmp/shout-no-such-socket-file.sock", "no socket file there");
            cases.Add(command, TooLongUnixPath, "a Unix socket path is at most 108 bytes");
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(ClientCases))]
    public async Task A_client_command_says_what_is_wrong_with_the_address_in_one_line(string command, string address, string expected)
    {
        string[] args = command switch
        {
            "send" => ["send", "-a", address, "hi"],
            "chat" => ["chat", "-a", address],
            _ => ["bench", "-a", address, "-d", "1s", "--warmup", "0s"],
        };
        var result = await CliRunner.ShoutAsync(args, stdin: [], timeout: Timeout);
        AssertOneLineError(result, expected);
    }

    [Theory]
    [InlineData("send")]
    [InlineData("chat")]
    [InlineData("bench")]
    public async Task A_bad_SHOUT_ADDRESS_is_one_line_too(string command)
    {
        var result = await CliRunner.ShoutAsync([command], stdin: [], timeout: Timeout,
            environment: new Dictionary<string, string> { ["SHOUT_ADDRESS"] = "foo://x" });
        AssertOneLineError(result, "$SHOUT_ADDRESS: 'foo://x': unknown scheme 'foo://'");
    }

    [Theory]
    [InlineData("tcp://", "missing port")]
    [InlineData("tcp://host", "missing port")]
    [InlineData("udp://[::1", "an IPv6 address is written [ADDRESS]:PORT")]
    [InlineData("foo://x", "unknown scheme 'foo://'")]
    [InlineData("ws://127.0.0.1:0/ws", "WebSocket is served on the web endpoint; use --web http://HOST:PORT")]
    [InlineData("unix:///no/such/dir/s.sock", "the directory /no/such/dir does not exist")]
    [InlineData("tcp://192.0.2.1:0", "192.0.2.1 is not an address of this machine")]
    [InlineData(TooLongUnixPath, "a Unix socket path is at most 108 bytes")]
    [InlineData("udp://192.0.2.1:0", "192.0.2.1 is not an address of this machine")]
    public async Task Serve_says_what_is_wrong_with_a_listen_address_in_one_line(string address, string expected)
    {
        var result = await CliRunner.ShoutAsync(["serve", "--listen", address, "--web", "none"], stdin: [], timeout: Timeout);
        AssertOneLineError(result, expected);
    }

    [Fact]
    public async Task Serve_names_the_address_already_in_use_in_one_line()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var address = $"tcp://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";
        var result = await CliRunner.ShoutAsync(["serve", "--listen", address, "--web", "none"], stdin: [], timeout: Timeout);
        AssertOneLineError(result, $"shout: cannot listen on {address}: address already in use");
    }

    private static void AssertOneLineError(CommandResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        // One line; a usage error found while parsing (exit 2) adds the pointer to --help after it.
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var usage = result.ExitCode == 2 && lines.Length == 2 && lines[1].StartsWith("Try 'shout ", StringComparison.Ordinal)
            && lines[1].Contains(" --help'", StringComparison.Ordinal);
        Assert.True(lines.Length == 1 || usage, $"expected one line on stderr, got {lines.Length}:\n{result.Stderr}");
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("shout", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.StdoutText);
    }
}
